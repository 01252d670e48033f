"""vidlab: the package behind the notebooks of the video-classification course."""
