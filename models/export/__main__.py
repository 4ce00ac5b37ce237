"""Export an FG-CLIP 2-shaped model to a Xunying model bundle and verify it.

Run from the repository root:

    python -m models.export toy --checkpoint models/work/toy/checkpoint.pt --out models/toy/bundle
    python -m models.export fgclip2 --checkpoint PATH/fg-clip2-base --variant base --out PATH/bundle \\
        [--fp16-out PATH/bundle-fp16]

The command writes vision.onnx, dense.onnx, text.onnx, the position tables, tokenizer.json
and manifest.json, then runs the graphs with ONNX Runtime against the PyTorch model and
exits with status 1 if any output's cosine similarity falls below the threshold.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

import torch

from . import bundle
from .onnx_graphs import EXTERNAL_DATA_THRESHOLD, check_dynamic_inputs, convert_to_fp16, export_graphs
from .sources import FGCLIP2_PATCH_BUDGETS, ModelSource, load_fgclip2, load_toy
from .verify import verify_bundle

log = logging.getLogger("models.export")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sources = parser.add_subparsers(dest="source", required=True)

    toy = sources.add_parser("toy", help="export a checkpoint written by models.toy.train")
    toy.add_argument("--checkpoint", type=Path, required=True, help="checkpoint.pt from models.toy.train")
    toy.add_argument(
        "--tokenizer", type=Path, help="tokenizer.json (default: tokenizer.json beside the checkpoint)"
    )

    real = sources.add_parser("fgclip2", help="export an FG-CLIP 2 checkpoint folder")
    real.add_argument(
        "--checkpoint", type=Path, required=True, help="folder with config.json, the weights and tokenizer.json"
    )
    real.add_argument("--variant", required=True, help="variant name for the manifest, e.g. base, large, so400m")
    real.add_argument(
        "--code", type=Path,
        help="folder with modeling_fgclip2.py and configuration_fgclip2.py "
        "(default: the checkpoint's own code via trust_remote_code)",
    )
    real.add_argument(
        "--patch-budgets", type=int, nargs="+", default=list(FGCLIP2_PATCH_BUDGETS),
        help="allowed max_num_patches values (default: %(default)s)",
    )

    for sub in (toy, real):
        sub.add_argument("--out", type=Path, required=True, help="bundle folder to write (created if missing)")
        sub.add_argument("--fp16-out", type=Path, help="also write an fp16 bundle to this folder")
        sub.add_argument(
            "--min-cosine", type=float, default=0.9999, help="fp32 parity threshold (default: %(default)s)"
        )
        sub.add_argument(
            "--min-cosine-fp16", type=float, default=0.99, help="fp16 parity threshold (default: %(default)s)"
        )
        sub.add_argument("--threads", type=int, default=2, help="torch and ONNX Runtime threads")
        sub.add_argument("--skip-verify", action="store_true", help="write the bundle without the parity check")
        sub.add_argument(
            "--external-data-threshold", type=int, default=EXTERNAL_DATA_THRESHOLD,
            help="graphs with more weight bytes than this keep them in <graph>.onnx.data (default: %(default)s)",
        )
    return parser.parse_args(argv)


def load_source(args: argparse.Namespace) -> ModelSource:
    if args.source == "toy":
        tokenizer = args.tokenizer or args.checkpoint.parent / "tokenizer.json"
        return load_toy(args.checkpoint, tokenizer)
    return load_fgclip2(args.checkpoint, args.variant, args.code, args.patch_budgets)


def prepare_folder(path: Path) -> None:
    """Create the bundle folder, removing the files a previous export wrote there."""
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        if child.is_file() and (child.suffix in (".onnx", ".data", ".f32") or child.name in ("manifest.json", "tokenizer.json")):
            child.unlink()


def write_bundle(source: ModelSource, out_dir: Path, identifier: str, external_threshold: int) -> dict:
    prepare_folder(out_dir)
    export_graphs(source, out_dir, external_threshold)
    for graph in (bundle.VISION_GRAPH, bundle.DENSE_GRAPH, bundle.TEXT_GRAPH):
        log.info("%s inputs: %s", graph, check_dynamic_inputs(out_dir / graph))
    bundle.write_side_files(source, out_dir)
    return bundle.write_manifest(source, out_dir, identifier, "fp32")


def write_fp16_bundle(source: ModelSource, fp32_dir: Path, out_dir: Path, identifier: str, external_threshold: int):
    prepare_folder(out_dir)
    convert_to_fp16(fp32_dir, out_dir, external_threshold)
    for name in (bundle.POSITION_GRID, bundle.TEXT_POSITIONS_SHORT, bundle.TEXT_POSITIONS_LONG, bundle.TOKENIZER):
        shutil.copyfile(fp32_dir / name, out_dir / name)
    return bundle.write_manifest(source, out_dir, identifier, "fp16")


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)

    source = load_source(args)
    identifier = bundle.model_id(source)
    log.info("model_id %s, embed_dim %d, patch budgets %s", identifier, source.embed_dim, source.patch_budgets)

    manifest = write_bundle(source, args.out, identifier, args.external_data_threshold)
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    log.info("wrote %s (%.2f MB)", args.out, total / 1e6)
    passed = True
    if not args.skip_verify:
        log.info("verifying fp32 bundle against the PyTorch model")
        passed = verify_bundle(source, args.out, manifest, args.min_cosine, args.threads)

    if args.fp16_out:
        fp16_manifest = write_fp16_bundle(
            source, args.out, args.fp16_out, identifier, args.external_data_threshold
        )
        total = sum(entry["bytes"] for entry in fp16_manifest["files"].values())
        log.info("wrote %s (%.2f MB)", args.fp16_out, total / 1e6)
        if not args.skip_verify:
            log.info("verifying fp16 bundle against the PyTorch model")
            passed &= verify_bundle(source, args.fp16_out, fp16_manifest, args.min_cosine_fp16, args.threads)

    if not passed:
        log.error("parity check failed: see the FAILED lines above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
