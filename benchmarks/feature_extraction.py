"""Naive per-frame `model.predict` against batched `extract_features`, same frames and model.

Run: `make bench` or `python benchmarks/feature_extraction.py [--full]`.
`--full` also times the full profile's backbones with random weights (offline).
"""

import argparse

from vidlab import backbones
from vidlab.datasets import motion_shapes
from vidlab.features import compare_extraction_speed


def report(backbone, clips) -> None:
    rates = compare_extraction_speed(clips, backbone)
    print(f"{backbone.name:<14}{backbone.input_size:>5}px  naive {rates['naive']:8.1f} frames/s"
          f"  batched {rates['batched']:8.1f} frames/s  ratio "
          f"{rates['batched'] / rates['naive']:6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time the full backbones")
    args = parser.parse_args()
    clips, _, _ = motion_shapes.generate(4, num_frames=16, size=64)  # 32 clips, 512 frames
    report(backbones.get_backbone("shapes_vgg", "quick"), clips)
    if args.full:
        for name in backbones.FULL_BACKBONES:
            report(backbones.get_backbone(name, "full", weights=False), clips[:4])


if __name__ == "__main__":
    main()
