"""The pipeline a user would write without Xunying, timed on the same photos.

Each photo is opened with Pillow and converted to RGB, as the FG-CLIP 2 README does
(without EXIF rotation). transformers' Siglip2ImageProcessor preprocesses it at the
photo's own patch budget, and torch resizes the bundle's position grid to its patch
grid (antialiased bilinear). The bundle's vision.onnx and dense.onnx then run through
onnxruntime's Python API, one photo per run.

    python bench/reference_pipeline.py --model BUNDLE --photos DIR --threads 2 [--json]
    python bench/reference_pipeline.py --photos DIR --decode-only [--repeats 5] [--json]

Sessions are opened and every patch budget is run once before timing, as
`xunying bench ingest` does. Prints a table, or one JSON object with --json.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

# Pillow refuses images above 89 megapixels by default; the benchmarks use up to 24.
Image.MAX_IMAGE_PIXELS = None

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
FG_CLIP2_VISION = {"patch_size": 16, "patch_budgets": [128, 256, 576, 784, 1024], "image_mean": [0.5] * 3, "image_std": [0.5] * 3}


def list_photos(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def patch_budget(width, height, patch, budgets):
    """Return the smallest budget that fits floor(W/p)·floor(H/p) patches, else the largest."""
    patches = (width // patch) * (height // patch)
    return next((b for b in budgets if patches <= b), budgets[-1])


def open_rgb(path):
    with Image.open(path) as image:
        return image.convert("RGB")


class Reference:
    def __init__(self, vision_settings):
        from transformers import Siglip2ImageProcessor

        self.patch = vision_settings["patch_size"]
        self.budgets = vision_settings["patch_budgets"]
        self.processors = {
            budget: Siglip2ImageProcessor(
                patch_size=self.patch,
                max_num_patches=budget,
                image_mean=vision_settings["image_mean"],
                image_std=vision_settings["image_std"],
            )
            for budget in self.budgets
        }

    def preprocess(self, rgb):
        budget = patch_budget(rgb.width, rgb.height, self.patch, self.budgets)
        return self.processors[budget](images=[rgb], return_tensors="np")


class Encoder:
    def __init__(self, bundle, threads, with_dense):
        import onnxruntime as ort
        import torch

        self.torch = torch
        manifest = json.loads((bundle / "manifest.json").read_text())
        vision = manifest["vision"]
        self.vision_settings = vision
        self.dim = manifest["embed_dim"]
        side = vision["position_grid"]["side"]
        grid = np.fromfile(bundle / vision["position_grid"]["file"], dtype="<f4").reshape(side, side, self.dim)
        self.grid = torch.from_numpy(grid).permute(2, 0, 1).unsqueeze(0)
        torch.set_num_threads(threads)

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        self.vision = ort.InferenceSession(str(bundle / vision["graph"]), options, providers=providers)
        self.dense = ort.InferenceSession(str(bundle / vision["dense_graph"]), options, providers=providers) if with_dense else None
        self.names = vision

    def positions(self, rows, cols, tokens):
        """Antialiased bilinear resize of the grid to rows × cols, padded with row 0."""
        resized = self.torch.nn.functional.interpolate(self.grid, size=(rows, cols), mode="bilinear", align_corners=False, antialias=True)
        flat = resized[0].permute(1, 2, 0).reshape(rows * cols, self.dim).numpy()
        out = np.empty((1, tokens, self.dim), dtype=np.float32)
        out[0, : rows * cols] = flat
        out[0, rows * cols :] = flat[0]
        return out

    def run(self, batch, times):
        pixel_values = batch["pixel_values"].astype(np.float32)
        mask = batch["pixel_attention_mask"].astype(np.int64)
        rows, cols = (int(v) for v in batch["spatial_shapes"][0])
        started = time.perf_counter()
        positions = self.positions(rows, cols, pixel_values.shape[1])
        times["positions"] += time.perf_counter() - started

        started = time.perf_counter()
        inputs = self.names["inputs"]
        outputs = self.names["outputs"]
        pooled, hidden = self.vision.run(
            [outputs["image_embeds"], outputs["last_hidden_state"]],
            {inputs["pixel_values"]: pixel_values, inputs["pixel_attention_mask"]: mask, inputs["position_embeddings"]: positions},
        )
        times["vision"] += time.perf_counter() - started
        if self.dense is not None:
            started = time.perf_counter()
            dense_inputs = self.names["dense_inputs"]
            self.dense.run(None, {dense_inputs["last_hidden_state"]: hidden, dense_inputs["pixel_attention_mask"]: mask})
            times["dense"] += time.perf_counter() - started
        return pooled / np.linalg.norm(pooled, axis=-1, keepdims=True)


def run_pipeline(args):
    bundle = Path(args.model)
    encoder = Encoder(bundle, args.threads, not args.no_dense)
    reference = Reference(encoder.vision_settings)
    photos = list_photos(args.photos)

    # Warm-up: one photo per patch budget, untimed.
    seen = set()
    for path in photos:
        try:
            rgb = open_rgb(path)
        except Exception:
            continue
        budget = patch_budget(rgb.width, rgb.height, reference.patch, reference.budgets)
        if budget not in seen:
            seen.add(budget)
            encoder.run(reference.preprocess(rgb), {"positions": 0.0, "vision": 0.0, "dense": 0.0})

    times = {"decode": 0.0, "preprocess": 0.0, "positions": 0.0, "vision": 0.0, "dense": 0.0}
    embedded = failed = 0
    started = time.perf_counter()
    for path in photos:
        step = time.perf_counter()
        try:
            rgb = open_rgb(path)
        except Exception:
            failed += 1
            continue
        times["decode"] += time.perf_counter() - step
        step = time.perf_counter()
        batch = reference.preprocess(rgb)
        times["preprocess"] += time.perf_counter() - step
        encoder.run(batch, times)
        embedded += 1
    wall = time.perf_counter() - started

    import onnxruntime

    return {
        "tool": "reference_pipeline.py",
        "onnxruntime": onnxruntime.__version__,
        "threads": args.threads,
        "dense": not args.no_dense,
        "photos_found": len(photos),
        "photos_embedded": embedded,
        "photos_failed": failed,
        "wall_s": wall,
        "photos_per_s": embedded / wall if wall > 0 else 0.0,
        "per_photo_ms": {name: 1e3 * seconds / max(embedded, 1) for name, seconds in times.items()},
    }


def run_decode_only(args):
    vision = FG_CLIP2_VISION
    if args.model:
        vision = json.loads((Path(args.model) / "manifest.json").read_text())["vision"]
    reference = Reference(vision)
    rows = []
    for path in list_photos(args.photos):
        try:
            first = open_rgb(path)
        except Exception:
            continue
        reference.preprocess(first)
        decode, preprocess, total = [], [], []
        for _ in range(max(args.repeats, 1)):
            started = time.perf_counter()
            rgb = open_rgb(path)
            decoded = time.perf_counter()
            reference.preprocess(rgb)
            finished = time.perf_counter()
            decode.append(decoded - started)
            preprocess.append(finished - decoded)
            total.append(finished - started)
        rows.append(
            {
                "name": path.name,
                "size_px": [first.width, first.height],
                "patch_budget": patch_budget(first.width, first.height, reference.patch, reference.budgets),
                "decode_ms": 1e3 * statistics.median(decode),
                "preprocess_ms": 1e3 * statistics.median(preprocess),
                "total_ms": 1e3 * statistics.median(total),
            }
        )
    return {"tool": "reference_pipeline.py --decode-only", "repeats": args.repeats, "photos": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="bundle folder (required unless --decode-only)")
    parser.add_argument("--photos", required=True, help="folder of photos, walked recursively")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="onnxruntime intra-op and torch threads")
    parser.add_argument("--no-dense", action="store_true", help="skip dense.onnx")
    parser.add_argument("--decode-only", action="store_true", help="time Pillow decode and the image processor only")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per photo with --decode-only")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    if not args.decode_only and not args.model:
        parser.error("--model is required unless --decode-only is given")

    report = run_decode_only(args) if args.decode_only else run_pipeline(args)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    elif args.decode_only:
        for row in report["photos"]:
            print(f"{row['name']:<34} {row['size_px'][0]}x{row['size_px'][1]:<6} {row['patch_budget']:>5} "
                  f"decode {row['decode_ms']:8.1f} ms  preprocess {row['preprocess_ms']:8.1f} ms  total {row['total_ms']:8.1f} ms")
    else:
        print(f"{report['photos_embedded']} photos in {report['wall_s']:.2f} s: {report['photos_per_s']:.2f} photos/s")
        for name, ms in report["per_photo_ms"].items():
            print(f"  {name:<11} {ms:8.1f} ms/photo")


if __name__ == "__main__":
    main()
