#!/usr/bin/env bash
# One short run of the ingest and query benchmarks on a CUDA machine, printing the
# execution provider each one actually used (`cpu` when it fell back to the CPU).
#
#   XUNYING_ORT_LIB=/path/to/libonnxruntime.so bench/gpu.sh --model BUNDLE [--photos DIR]
#                                                            [--out DIR] [--device cuda]
#
# XUNYING_ORT_LIB must name an ONNX Runtime build with the CUDA provider, with
# libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so beside it.
# Builds `xunying` with the `cuda` feature unless XUNYING names a binary.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="" photos="$repo/../shared/corpus/photos" out="" device="cuda"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --photos) photos="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$model" ]]; then
  echo "--model BUNDLE is required" >&2
  exit 2
fi
if [[ -z "${XUNYING_ORT_LIB:-}" ]]; then
  echo "set XUNYING_ORT_LIB to an ONNX Runtime library built with the CUDA provider" >&2
  exit 2
fi
lib_dir="$(dirname "$XUNYING_ORT_LIB")"
if [[ ! -e "$lib_dir/libonnxruntime_providers_cuda.so" ]]; then
  echo "warning: $lib_dir has no libonnxruntime_providers_cuda.so; the CUDA provider will not load" >&2
fi

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi not available" >&2

xunying="${XUNYING:-}"
if [[ -z "$xunying" ]]; then
  (cd "$repo" && cargo build --release --features cuda --bin xunying)
  xunying="$repo/target/release/xunying"
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
out="${out:-$scratch/reports}"
mkdir -p "$out"
threads="$(nproc)"

echo "== ingest on $device: corpus and 8 generated 24 MP photos"
"$xunying" --model "$model" --device "$device" bench generate --out "$scratch/photos/generated" --generate 8x24 >/dev/null
cp -R "$photos"/. "$scratch/photos"/
"$xunying" --model "$model" --device "$device" bench ingest --photos "$scratch/photos" --threads "$threads" \
  --batch-size 16 --scratch "$scratch" --json >"$out/ingest_gpu.json"

echo "== query: 100k photos, 1M regions, text encoder on $device"
"$xunying" --model "$model" --device "$device" bench query --photos 100000 --regions 1000000 --kind i8 \
  --expansion-search 64,128,256 --threads "$threads" --scratch "$scratch" --json >"$out/query_gpu.json"

python3 - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
ingest = json.loads((out / "ingest_gpu.json").read_text())
query = json.loads((out / "query_gpu.json").read_text())
print(f"ingest: provider {ingest['device']}, {ingest['photos_per_s']:.2f} photos/s end to end, "
      f"{ingest['model_only']['photos_per_s']:.2f} model only, ratio {ingest['ratio_to_model_only']:.3f}")
text = query.get("text_encoder") or {}
print(f"query: text encoder provider {text.get('device', 'none')}, text p50 {text.get('per_query', {}).get('p50_ms', 0):.1f} ms")
for e in query["by_expansion"]:
    print(f"  expansion {e['expansion_search']}: p50 {e['ann_and_fusion']['p50_ms']:.2f} ms, "
          f"p99 {e['ann_and_fusion']['p99_ms']:.2f} ms, region recall@10 {e['region_recall_at_10']:.3f}")
PY
echo "reports: $out"
