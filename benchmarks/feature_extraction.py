"""Feature extraction: the naive loop, batched extraction, and decoding overlapped with the model.

Run: `make bench` or `python benchmarks/feature_extraction.py [--full]`.

1. Naive per-frame `model.predict` against batched `extract_features`, same frames and model.
2. From video files: decode every clip first, then extract (`read_clips` + `extract_features`),
   against the `tf.data` pipeline that decodes while the model runs (`video_features`).

`--full` also times the full profile's backbones with random weights (offline) in part 1.
"""

import argparse
import tempfile
import time

from vidlab import backbones
from vidlab.datasets import list_videos, motion_shapes, read_clips
from vidlab.features import compare_extraction_speed, extract_features, video_features


def report(backbone, clips) -> None:
    rates = compare_extraction_speed(clips, backbone)
    print(f"{backbone.name:<14}{backbone.input_size:>5}px  naive {rates['naive']:8.1f} frames/s"
          f"  batched {rates['batched']:8.1f} frames/s  ratio "
          f"{rates['batched'] / rates['naive']:6.1f}x")


def report_overlap(backbone, num_per_class: int = 24, repeats: int = 3) -> None:
    """Best of ``repeats`` wall times of both ways to get the features of the same files."""
    with tempfile.TemporaryDirectory() as folder:
        motion_shapes.write(folder, num_per_class=num_per_class, progress=False)
        records = list_videos(folder)[0]
        frames = len(records) * 16
        video_features(records[:16], backbone, 16, 64, progress=False)  # warm up both paths

        def decode_then_extract():
            clips, _ = read_clips(records, 16, 64, progress=False)
            extract_features(clips, backbone, progress=False)

        def overlapped():
            video_features(records, backbone, 16, 64, progress=False)

        for name, run in [("decode, then extract", decode_then_extract),
                          ("overlapped (tf.data)", overlapped)]:
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                run()
                seconds.append(time.perf_counter() - start)
            print(f"{name:<22}{frames / min(seconds):8.1f} frames/s  ({len(records)} clips)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time the full backbones")
    args = parser.parse_args()
    clips, _, _ = motion_shapes.generate(4, num_frames=16, size=64)  # 32 clips, 512 frames
    quick = backbones.get_backbone("shapes_vgg", "quick")
    report(quick, clips)
    if args.full:
        import keras

        vgg = keras.applications.VGG16(weights=None)  # notebook 01's recipe, random weights
        vgg16_fc2 = keras.Model(vgg.input, vgg.get_layer("fc2").output, name="vgg16_fc2")
        report(backbones.wrap("vgg16_fc2", vgg16_fc2, vgg, pretrained=False), clips[:4])
        report(backbones.get_backbone("mobilenet_v2", "full", weights=False), clips[:4])
    print()
    report_overlap(quick)


if __name__ == "__main__":
    main()
