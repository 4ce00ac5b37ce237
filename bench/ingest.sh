#!/usr/bin/env bash
# Runs `xunying bench ingest` and bench/reference_pipeline.py back to back on the same
# photos with the same thread count and prints photos/s of each and their ratio. Then
# times decode + preprocessing of generated 24 MP JPEGs, ours against Pillow with
# transformers' Siglip2ImageProcessor, and prints that ratio.
#
#   bench/ingest.sh --model BUNDLE [--photos DIR] [--generate COUNTxMP]... [--threads N]
#                   [--decode-24mp COUNT] [--out DIR]
#
# Environment: XUNYING (the binary, default target/release/xunying, else
# target/debug/xunying), PYTHON (default python3). The JSON reports are kept in --out
# (default: a temporary folder that is removed).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="" photos="" threads="$(nproc)" decode_count=2 out=""
generate=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --photos) photos="$2"; shift 2 ;;
    --generate) generate+=("$2"); shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --decode-24mp) decode_count="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$model" ]]; then
  echo "--model BUNDLE is required" >&2
  exit 2
fi
if [[ -z "$photos" && ${#generate[@]} -eq 0 ]]; then
  echo "give --photos DIR, --generate COUNTxMP, or both" >&2
  exit 2
fi

xunying="${XUNYING:-}"
if [[ -z "$xunying" ]]; then
  for candidate in "$repo/target/release/xunying" "$repo/target/debug/xunying"; do
    if [[ -x "$candidate" ]]; then xunying="$candidate"; break; fi
  done
fi
if [[ -z "$xunying" || ! -x "$xunying" ]]; then
  echo "no xunying binary: build it with 'cargo build --release' or set XUNYING" >&2
  exit 2
fi
python="${PYTHON:-python3}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
out="${out:-$scratch/reports}"
mkdir -p "$out"

# One folder of photos that both tools read.
input="$scratch/photos"
mkdir -p "$input"
if [[ -n "$photos" ]]; then
  cp -R "$photos"/. "$input"/
fi
if [[ ${#generate[@]} -gt 0 ]]; then
  args=()
  for set in "${generate[@]}"; do args+=(--generate "$set"); done
  "$xunying" bench generate --out "$input/generated" "${args[@]}"
fi

echo "== ingest: xunying bench ingest ($threads threads)"
"$xunying" --model "$model" --device cpu bench ingest --photos "$input" --threads "$threads" --scratch "$scratch" --json >"$out/ingest_xunying.json"
echo "== ingest: reference_pipeline.py ($threads threads)"
"$python" "$repo/bench/reference_pipeline.py" --model "$model" --photos "$input" --threads "$threads" --json >"$out/ingest_reference.json"

echo "== decode + preprocess: $decode_count generated 24 MP JPEGs"
"$xunying" bench generate --out "$scratch/large" --generate "${decode_count}x24" >/dev/null
"$xunying" --model "$model" bench decode --photos "$scratch/large" --json >"$out/decode_xunying.json"
"$python" "$repo/bench/reference_pipeline.py" --model "$model" --photos "$scratch/large" --decode-only --json >"$out/decode_reference.json"

"$python" - "$out" <<'PY'
import json, statistics, sys
from pathlib import Path
out = Path(sys.argv[1])
ours = json.loads((out / "ingest_xunying.json").read_text())
ref = json.loads((out / "ingest_reference.json").read_text())
print()
print(f"model {ours['model_id']} ({ours['variant']}), {ours['threads']} threads, {ours['photos_embedded']} photos")
print(f"  xunying end to end     {ours['photos_per_s']:8.2f} photos/s")
print(f"  xunying model only     {ours['model_only']['photos_per_s']:8.2f} photos/s")
print(f"  reference pipeline     {ref['photos_per_s']:8.2f} photos/s")
print(f"  end to end / model only   {ours['ratio_to_model_only']:.3f}   (target >= 0.9)")
print(f"  end to end / reference    {ours['photos_per_s'] / ref['photos_per_s']:.3f}   (target >= 3)")
dec_ours = json.loads((out / "decode_xunying.json").read_text())["photos"]
dec_ref = json.loads((out / "decode_reference.json").read_text())["photos"]
ref_ms = statistics.median(p["total_ms"] for p in dec_ref)
full_ms = statistics.median(p["total"]["p50_ms"] for p in dec_ours)
print(f"  24 MP decode + preprocess: Pillow + processor {ref_ms:.0f} ms")
print(f"    xunying, full-size decode           {full_ms:.0f} ms, ratio {full_ms / ref_ms:.3f}")
# Ingest decodes for the model input and the thumbnails, and query by image for the
# model input alone. Both decode at reduced size when the JPEG allows it.
for index, use in ((1, "ingest"), (0, "query by image")):
    ms = statistics.median(p["reduced"][index]["total"]["p50_ms"] for p in dec_ours)
    worst = max(p["reduced"][index]["max_diff_levels"] for p in dec_ours)
    print(f"    xunying, reduced decode ({use:<14}) {ms:.0f} ms, ratio {ms / ref_ms:.3f}   "
          f"(target <= 0.40; model input within {worst:.0f} grey levels of the full decode's)")
PY
echo "reports: $out"
