"""Compare Xunying with the reference FG-CLIP 2 model on real photos and captions.

Run from the repository root, after `cargo build`:

    python -m models.check_parity --checkpoint PATH/fg-clip2-base --bundle PATH/bundle \\
        --photos PATH/photos [--xunying target/release/xunying] [--report parity.json]

The reference is the checkpoint's own code, loaded with `trust_remote_code` as the
exporter loads it, with the checkpoint's image processor (`AutoImageProcessor`) and
tokenizer (`AutoTokenizer`). Xunying runs through `xunying embed --json` on the bundle.
Both see the same photos, each at the patch budget its own size calls for, and the same
English and Chinese captions, short and long.

Checks, each with its own minimum cosine:

- tensors: Xunying fed the reference processor's `pixel_values` (`--pixel-values`), so
  only the graphs, the host's position embeddings and RoIAlign differ (0.9999);
- end to end: Xunying's own decoding and resizing (0.999);
- padding: Xunying's own preprocessing padded to the largest budget (`--pad-to`) against
  its result at the photo's own budget (0.99999);
- texts: token ids must be identical, and the short, box and long embeddings of those ids
  must reach the tensors threshold.

Outputs compared per photo: the pooled embedding, the dense feature map (each patch
vector on its own), and region embeddings for five boxes. The command prints one line per
check and output with the minimum and mean cosine and the worst photo, and it exits with
status 1 when any minimum is below its threshold. Neither side applies EXIF orientation
here, so a rotated photo is compared as stored.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger("models.check_parity")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp"}

CAPTIONS = (
    "a cat",
    "an astronaut in a white suit",
    "A photo of a red motorcycle parked on a street.",
    "一只猫",
    "宇航员穿着白色的宇航服站在旗帜前",
    "一杯放在碟子上的咖啡",
    # Long captions: the first is longer than the short walk's 64 tokens, the second is
    # longer than the long walk's 196 tokens and is cut.
    "A close-up photograph of a tabby cat with green eyes and long white whiskers, sitting "
    "on a wooden floor next to a window. Warm afternoon light falls across its striped fur, "
    "and a blurred bookshelf with colourful books fills the background on the left side, "
    "while a potted plant with broad leaves stands on the right. The picture was taken with a phone "
    "camera in the evening.",
    "一张特写照片：一只长着绿色眼睛和白色长胡须的虎斑猫坐在窗边的木地板上。午后温暖的阳光洒在它带条纹的毛上，"
    "左侧背景是摆满彩色书籍的模糊书架，右侧立着一盆宽叶的绿色植物。" * 4,
)

# Region boxes as fractions (x0, y0, x1, y1) of the photo: the whole photo, halves, a
# centre crop, an off-grid small box and a thin strip.
BOX_FRACTIONS = (
    (0.0, 0.0, 1.0, 1.0),
    (0.0, 0.0, 0.5, 1.0),
    (0.25, 0.25, 0.75, 0.75),
    (0.61, 0.13, 0.69, 0.22),
    (0.05, 0.8, 0.95, 0.86),
)


@dataclass
class Target:
    """Minimum cosine for one check."""

    name: str
    min_cosine: float


@dataclass
class Result:
    """Cosines of one output under one check, one value per photo, patch, box or text."""

    check: str
    output: str
    threshold: float
    cosines: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, cosines, label: str) -> None:
        values = np.atleast_1d(np.asarray(cosines, dtype=np.float64))
        self.cosines.extend(float(v) for v in values)
        self.labels.extend([label] * len(values))

    @property
    def passed(self) -> bool:
        return bool(self.cosines) and min(self.cosines) >= self.threshold

    def summary(self) -> dict:
        worst = int(np.argmin(self.cosines)) if self.cosines else None
        return {
            "check": self.check,
            "output": self.output,
            "threshold": self.threshold,
            "count": len(self.cosines),
            "min_cosine": min(self.cosines) if self.cosines else None,
            "mean_cosine": float(np.mean(self.cosines)) if self.cosines else None,
            "worst": self.labels[worst] if worst is not None else None,
            "passed": self.passed,
        }


def row_cosines(actual, expected) -> np.ndarray:
    """Return the cosine similarity of each row pair of two `[N, D]` arrays, in float64.

    A row pair where either side has zero norm or is not finite gets cosine -1, so it
    fails every threshold instead of passing as NaN.
    """
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: Xunying {a.shape}, reference {b.shape}")
    a = a.reshape(a.shape[0], -1) if a.ndim > 1 else a[None]
    b = b.reshape(b.shape[0], -1) if b.ndim > 1 else b[None]
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.sum(a * b, axis=1)
    valid = np.isfinite(dots) & np.isfinite(norms) & (norms > 0)
    return np.where(valid, dots / np.where(valid, norms, 1.0), -1.0)


def pixel_boxes(width: int, height: int) -> list[list[float]]:
    """Return BOX_FRACTIONS in whole pixels of a `width × height` photo."""
    boxes = []
    for x0, y0, x1, y1 in BOX_FRACTIONS:
        box = [round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height)]
        box[2] = max(box[2], box[0] + 1)
        box[3] = max(box[3], box[1] + 1)
        boxes.append([float(v) for v in box])
    return boxes


def find_photos(paths: list[Path]) -> list[Path]:
    photos = []
    for path in paths:
        if path.is_dir():
            photos.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            photos.append(path)
    if not photos:
        raise SystemExit(f"no photos found in {', '.join(map(str, paths))}")
    return photos


def find_xunying(explicit: Path | None) -> Path:
    candidates = [explicit] if explicit else []
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    candidates += [target_dir / "release" / "xunying", target_dir / "debug" / "xunying"]
    on_path = shutil.which("xunying")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate and candidate.is_file():
            return candidate
    raise SystemExit("xunying binary not found: run `cargo build --release` or pass --xunying PATH")


class Reference:
    """The checkpoint's model, image processor and tokenizer, loaded with the Hugging Face Auto classes."""

    def __init__(self, checkpoint: Path, budgets, threads: int):
        import torch
        from transformers import AutoImageProcessor, AutoTokenizer

        from models.export.sources import load_fgclip2

        torch.set_num_threads(threads)
        self.torch = torch
        self.source = load_fgclip2(checkpoint, "reference", None, budgets)
        self.model = self.source.model
        self.processor = AutoImageProcessor.from_pretrained(checkpoint)
        self.tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        self.timings: dict[str, list[float]] = {}

    def _timed(self, stage: str, call):
        started = time.perf_counter()
        with self.torch.no_grad():
            value = call()
        self.timings.setdefault(stage, []).append((time.perf_counter() - started) * 1e3)
        return value

    def preprocess(self, image, budget: int):
        inputs = self._timed(
            "preprocess", lambda: self.processor(images=[image], max_num_patches=budget, return_tensors="pt")
        )
        return inputs["pixel_values"], inputs["pixel_attention_mask"], inputs["spatial_shapes"]

    def embed_image(self, pixel_values, mask, shapes, size: tuple[int, int], boxes):
        kwargs = dict(pixel_values=pixel_values, pixel_attention_mask=mask, spatial_shapes=shapes)
        pooled = self._timed("vision", lambda: self.model.get_image_features(**kwargs))
        dense = self._timed("vision+dense", lambda: self.model.get_image_dense_feature(**kwargs))
        width, height = size
        with self.torch.no_grad():
            regions = self.model.get_image_region_features(
                **kwargs, image_sizes=[(height, width)], region_infos=[boxes]
            )
        rows, cols = (int(v) for v in shapes[0])
        return pooled[0].numpy(), dense[0, : rows * cols].numpy(), regions[0].numpy()

    def token_ids(self, texts, length: int) -> np.ndarray:
        lowered = [text.lower() for text in texts]
        encoded = self.tokenizer(lowered, padding="max_length", truncation=True, max_length=length)
        return np.asarray(encoded["input_ids"], dtype=np.int64)

    def embed_texts(self, ids: np.ndarray, walk: str) -> np.ndarray:
        """Embed a batch of token ids, recording the time per text."""
        tensor = self.torch.from_numpy(ids)
        started = time.perf_counter()
        with self.torch.no_grad():
            embeddings = self.model.get_text_features(input_ids=tensor, walk_type=walk)
        elapsed_ms = (time.perf_counter() - started) * 1e3
        stage = "text long" if walk == "long" else "text short"
        self.timings.setdefault(stage, []).append(elapsed_ms / len(ids))
        return embeddings.numpy()


def run_xunying(binary: Path, bundle: Path, args: list[str]) -> dict:
    command = [str(binary), "--model", str(bundle), "--device", "cpu", "embed", "--json", *args]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"xunying embed failed ({completed.returncode}):\n{completed.stderr}")
    return json.loads(completed.stdout)


def save_patches(pixel_values, shapes, path: Path) -> None:
    """Write the valid patches of a one-image batch as float32 `[rows, cols, 3·p·p]`."""
    rows, cols = (int(v) for v in shapes[0])
    patches = pixel_values[0, : rows * cols].numpy().astype("<f4")
    np.save(path, patches.reshape(rows, cols, -1))


def check_images(reference: Reference, binary: Path, bundle: Path, photos, targets, results, timings) -> list[str]:
    """Compare every photo the reference can open, and return the names of those it cannot."""
    from PIL import Image, UnidentifiedImageError

    from models.export.naflex import select_patch_budget

    patch_size = reference.source.patch_size
    budgets = reference.source.patch_budgets
    groups: dict[tuple[int, int], list[Path]] = {}
    expected: dict[Path, tuple] = {}
    skipped = []
    with tempfile.TemporaryDirectory(prefix="xunying-parity-") as scratch:
        for photo in photos:
            try:
                with Image.open(photo) as opened:
                    image = opened.convert("RGB")
            except (UnidentifiedImageError, OSError) as error:
                log.warning("skipping %s: the reference cannot open it (%s)", photo, error)
                skipped.append(photo.name)
                continue
            budget = select_patch_budget(image.width, image.height, patch_size, budgets)
            pixel_values, mask, shapes = reference.preprocess(image, budget)
            npy = Path(scratch) / f"{len(expected)}.npy"
            save_patches(pixel_values, shapes, npy)
            boxes = pixel_boxes(image.width, image.height)
            pooled, dense, regions = reference.embed_image(pixel_values, mask, shapes, image.size, boxes)
            expected[photo] = (npy, tuple(int(v) for v in shapes[0]), pooled, dense, regions, boxes)
            groups.setdefault(image.size, []).append(photo)
            log.info("reference %s: %dx%d, budget %d, grid %s", photo.name, *image.size, budget, expected[photo][1])

        # One Xunying call per photo size, because --box applies to every image of a call.
        for size, members in groups.items():
            box_args = [a for box in expected[members[0]][5] for a in ("--box", ",".join(f"{v:g}" for v in box))]
            image_args = [a for photo in members for a in ("--image", str(photo))]
            npy_args = [a for photo in members for a in ("--pixel-values", str(expected[photo][0]))]
            runs = {
                "tensors": run_xunying(binary, bundle, image_args + npy_args + box_args + ["--dense"]),
                "end to end": run_xunying(binary, bundle, image_args + box_args + ["--dense"]),
                "padding": run_xunying(binary, bundle, image_args + box_args + ["--pad-to", str(max(budgets))]),
            }
            for index, photo in enumerate(members):
                _, shape, pooled, dense, regions, _ = expected[photo]
                own = runs["end to end"]["images"][index]
                for check in ("tensors", "end to end"):
                    report = runs[check]["images"][index]
                    if tuple(report["spatial_shape"]) != shape:
                        raise SystemExit(
                            f"{photo}: Xunying's grid {report['spatial_shape']} differs from the reference's {list(shape)}"
                        )
                    threshold = targets[check].min_cosine
                    compare(results, check, "pooled image", threshold, report["embedding"], pooled, photo.name)
                    actual_dense = np.asarray(report["dense_features"], dtype=np.float32).reshape(dense.shape)
                    compare(results, check, "dense features", threshold, actual_dense, dense, photo.name)
                    actual_regions = [region["embedding"] for region in report["regions"]]
                    compare(results, check, "region features", threshold, actual_regions, regions, photo.name)
                padded = runs["padding"]["images"][index]
                threshold = targets["padding"].min_cosine
                compare(results, "padding", "pooled image", threshold, padded["embedding"], own["embedding"], photo.name)
                compare(
                    results, "padding", "region features", threshold,
                    [r["embedding"] for r in padded["regions"]], [r["embedding"] for r in own["regions"]], photo.name,
                )
                record_image_timings(timings, own)
            log.info("xunying: %d photo(s) of %dx%d compared", len(members), *size)
    return skipped


def compare(results: dict, check: str, output: str, threshold: float, actual, expected, label: str) -> None:
    key = (check, output)
    if key not in results:
        results[key] = Result(check, output, threshold)
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64).reshape(expected.shape)
    results[key].add(row_cosines(actual, expected), label)


def record_image_timings(timings: dict, report: dict) -> None:
    stages = report["timings_ms"]
    budget = report["patch_budget"]
    for stage in ("decode", "preprocess", "vision", "dense"):
        if stage in stages:
            timings.setdefault(f"{stage} @{budget}", []).append(stages[stage])


def check_texts(reference: Reference, binary: Path, bundle: Path, targets, results, timings) -> dict:
    short_len, long_len = reference.source.short_len, reference.source.long_len
    id_mismatches = {}
    text_args = [a for text in CAPTIONS for a in ("--text", text)]
    for walk, length in (("short", short_len), ("box", short_len), ("long", long_len)):
        report = run_xunying(binary, bundle, text_args + ["--walk", walk])
        expected_ids = reference.token_ids(CAPTIONS, length)
        expected = reference.embed_texts(expected_ids, walk)
        for index, (text, entry) in enumerate(zip(CAPTIONS, report["texts"])):
            ids = np.asarray(entry["ids"], dtype=np.int64)
            if not np.array_equal(ids, expected_ids[index]):
                differing = int(np.argmax(ids != expected_ids[index])) if ids.shape == expected_ids[index].shape else 0
                id_mismatches[f"{walk}: {text[:30]}"] = differing
            label = f"{text[:24]}"
            compare(results, "texts", f"{walk} text", targets["tensors"].min_cosine, entry["embedding"], expected[index], label)
            stage = "text long" if walk == "long" else "text short"
            timings.setdefault(f"{stage} graph", []).append(entry["timings_ms"]["graph"])
    return id_mismatches


def median_table(timings: dict) -> dict:
    return {stage: round(statistics.median(values), 1) for stage, values in sorted(timings.items())}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="FG-CLIP 2 checkpoint folder (Hugging Face layout)")
    parser.add_argument("--bundle", type=Path, required=True, help="Xunying model bundle exported from that checkpoint")
    parser.add_argument("--photos", type=Path, nargs="+", required=True, help="photo files or folders of photos")
    parser.add_argument("--xunying", type=Path, help="xunying binary (default: target/release, then target/debug, then PATH)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default: %(default)s)")
    parser.add_argument("--report", type=Path, help="also write every figure as JSON to this file")
    parser.add_argument("--min-cosine-tensors", type=float, default=0.9999, help="Xunying fed the reference tensors, and texts")
    parser.add_argument("--min-cosine-end-to-end", type=float, default=0.999, help="Xunying's own decoding and resizing")
    parser.add_argument("--min-cosine-padding", type=float, default=0.99999, help="own budget against padded to the largest")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    binary = find_xunying(args.xunying)
    photos = find_photos(args.photos)
    manifest = json.loads((args.bundle / "manifest.json").read_text(encoding="utf-8"))
    targets = {
        "tensors": Target("tensors", args.min_cosine_tensors),
        "end to end": Target("end to end", args.min_cosine_end_to_end),
        "padding": Target("padding", args.min_cosine_padding),
    }

    reference = Reference(args.checkpoint, manifest["vision"]["patch_budgets"], args.threads)
    results: dict[tuple[str, str], Result] = {}
    timings: dict[str, list[float]] = {}
    skipped = check_images(reference, binary, args.bundle, photos, targets, results, timings)
    id_mismatches = check_texts(reference, binary, args.bundle, targets, results, timings)

    summaries = [result.summary() for result in results.values()]
    compared = len(photos) - len(skipped)
    print(f"bundle {manifest['model_id']} ({manifest['precision']}), {compared} photos, {len(CAPTIONS)} captions")
    if skipped:
        print(f"skipped (the reference cannot open them): {', '.join(skipped)}")
    for summary in summaries:
        print(
            f"{summary['check']:<11} {summary['output']:<16} min {summary['min_cosine']:.7f}  "
            f"mean {summary['mean_cosine']:.7f}  n={summary['count']:<6} worst {summary['worst']:<26} "
            f"{'ok' if summary['passed'] else 'FAILED (< ' + str(summary['threshold']) + ')'}"
        )
    ids_ok = not id_mismatches
    print(f"token ids   {'identical' if ids_ok else 'DIFFER: ' + json.dumps(id_mismatches, ensure_ascii=False)}")
    xunying_timings = median_table(timings)
    reference_timings = median_table(reference.timings)
    print("median ms, xunying:  ", json.dumps(xunying_timings))
    print("median ms, reference:", json.dumps(reference_timings))

    passed = ids_ok and all(summary["passed"] for summary in summaries)
    if args.report:
        report = {
            "model_id": manifest["model_id"],
            "precision": manifest["precision"],
            "photos": [str(p) for p in photos],
            "skipped_photos": skipped,
            "captions": list(CAPTIONS),
            "results": summaries,
            "token_id_mismatches": id_mismatches,
            "timings_ms_median": {"xunying": xunying_timings, "reference": reference_timings},
            "passed": passed,
        }
        args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    if not passed:
        log.error("parity check failed: see the FAILED lines above")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
