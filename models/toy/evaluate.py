"""Measure retrieval and region quality of the toy model on fresh scenes from `eval_scenes.py`.

The default backend is an exported bundle run with ONNX Runtime and the host-style
preprocessing of `models.export.naflex`. With `--checkpoint` it evaluates a PyTorch
checkpoint instead, which is how training progress was watched.

Protocol, per gallery of `--gallery-size` fresh scenes:
- single object: for every class present in the gallery, an English and a Chinese query
  ("a red circle", "red circle" / "一个红色的圆形", "红色的圆形", "红色圆形") through the short walk; a
  hit when the top-ranked scene contains a shape of that colour and type;
- two objects: for every pair of classes that occurs together in some scene and alone in
  another, "a red circle and a blue square" (and the Chinese form). Three rates: every
  scene with both ranks above every scene with only one of them (`both_above_one`), the
  top scene has both (`top1_has_both`), and the share of (both, one) scene pairs in the
  right order (`pair_order`);
- long: each scene's long positional caption (English and Chinese) through the long
  walk; a hit when the scene itself ranks first;
- long, same objects: groups of `--group-size` scenes with the same three or four objects
  at different places, drawn after the galleries from seed + 1. Each scene's long caption
  lists the objects and then places them (the form that runs past 64 tokens); a hit
  when the scene ranks first within its group, so only positions count;
- regions: for every object, a box-walk phrase ("red circle" / "红色的圆形") against
  RoIAlign features of candidate boxes: all objects' boxes, the whole image, and windows
  of 1/2, 1/3 and 1/4 of each side at half-window strides. A hit when the best candidate
  has IoU >= 0.5 with a box of that class.

Run from the repository root:
    python -m models.toy.evaluate --bundle models/toy/bundle
"""

from __future__ import annotations

import os

# Sleeping rather than spinning OpenMP threads keeps runs fast on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import itertools
import json
import logging
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.ops import box_iou

from models.export import bundle as bundle_files
from models.export.naflex import batch_position_embeddings, pad_patches, patchify_image
from models.toy import world
from models.toy.eval_scenes import random_eval_scene, render_eval_scene
from models.toy.tokenizer import build_tokenizer, encode_fixed_length
from models.toy.train import region_features

log = logging.getLogger("toy.evaluate")


class BundleEncoder:
    """Runs a bundle's graphs with ONNX Runtime on host-style inputs."""

    def __init__(self, bundle_dir: Path, threads: int):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.manifest = json.loads((bundle_dir / bundle_files.MANIFEST).read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads

        def session(name: str):
            return ort.InferenceSession(str(bundle_dir / name), options, providers=["CPUExecutionProvider"])

        self.vision = session(bundle_files.VISION_GRAPH)
        self.dense = session(bundle_files.DENSE_GRAPH)
        self.text = session(bundle_files.TEXT_GRAPH)
        self.tokenizer = Tokenizer.from_file(str(bundle_dir / bundle_files.TOKENIZER))
        dim = self.manifest["embed_dim"]
        side = self.manifest["vision"]["position_grid"]["side"]
        self.grid = bundle_files.read_table(bundle_dir / bundle_files.POSITION_GRID, dim).reshape(side, side, dim)
        self.tables = {
            "short": bundle_files.read_table(bundle_dir / bundle_files.TEXT_POSITIONS_SHORT, dim).numpy(),
            "long": bundle_files.read_table(bundle_dir / bundle_files.TEXT_POSITIONS_LONG, dim).numpy(),
        }
        self.patch_size = self.manifest["vision"]["patch_size"]
        self.budgets = self.manifest["vision"]["patch_budgets"]

    def encode_image(self, image):
        """Return (unnormalised pooled `[D]`, dense features `[h*w, D]`, spatial shapes `[1, 2]`)."""
        patches = patchify_image(image, self.patch_size, self.budgets)
        pixel_values, mask, shapes = pad_patches([patches], patches.budget)
        positions = batch_position_embeddings(self.grid, shapes, patches.budget)
        pooled, hidden = self.vision.run(
            None,
            {
                "pixel_values": pixel_values.numpy(),
                "pixel_attention_mask": mask.numpy(),
                "position_embeddings": positions.numpy(),
            },
        )
        (dense,) = self.dense.run(None, {"last_hidden_state": hidden, "pixel_attention_mask": mask.numpy()})
        return torch.from_numpy(pooled[0]), torch.from_numpy(dense), shapes

    def encode_texts(self, texts: list[str], walk: str) -> torch.Tensor:
        length = self.manifest["text"]["long_len" if walk == "long" else "short_len"]
        ids = encode_fixed_length(self.tokenizer, texts, length).numpy()
        table = self.tables["long" if walk == "long" else "short"]
        outputs = dict(zip(("short", "box", "long"), self.text.run(None, {"input_ids": ids, "position_embeddings": table})))
        return torch.from_numpy(outputs[walk])


class CheckpointEncoder:
    """Runs a PyTorch checkpoint written by `models.toy.train`."""

    def __init__(self, checkpoint: Path):
        from models.toy.model import ToyConfig, ToyModel

        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        self.config = ToyConfig.from_dict(saved["config"])
        self.model = ToyModel(self.config).eval()
        self.model.load_state_dict(saved["state_dict"])
        self.tokenizer = build_tokenizer()

    @torch.no_grad()
    def encode_image(self, image):
        patches = patchify_image(image, self.config.vision_config.patch_size, self.config.patch_budgets)
        pixel_values, mask, shapes = pad_patches([patches])
        pooled, hidden = self.model.vision_model(pixel_values, mask, shapes)
        return pooled[0], self.model.dense_from_hidden(hidden, mask), shapes

    @torch.no_grad()
    def encode_texts(self, texts: list[str], walk: str) -> torch.Tensor:
        length = 196 if walk == "long" else 64
        return self.model.get_text_features(encode_fixed_length(self.tokenizer, texts, length), walk)


def window_grid(width: int, height: int) -> list[list[float]]:
    """Return the whole image and windows of 1/2, 1/3 and 1/4 of each side at half-window strides."""
    windows = [[0.0, 0.0, float(width), float(height)]]
    for parts in (2, 3, 4):
        window_width, window_height = width / parts, height / parts
        for row in range(2 * parts - 1):
            for column in range(2 * parts - 1):
                x1, y1 = column * window_width / 2, row * window_height / 2
                windows.append([x1, y1, min(x1 + window_width, width), min(y1 + window_height, height)])
    return windows


def single_object_queries(colour: str, shape: str) -> dict[str, list[str]]:
    zh_colour, zh_shape = world.COLOUR_ZH[colour], world.SHAPE_ZH[shape]
    article = world.indefinite_article(colour)
    return {
        "en": [f"{article} {colour} {shape}", f"{colour} {shape}"],
        "zh": [f"一个{zh_colour}的{zh_shape}", f"{zh_colour}的{zh_shape}", f"{zh_colour}{zh_shape}"],
    }


def pair_queries(first, second) -> dict[str, str]:
    (colour_a, shape_a), (colour_b, shape_b) = first, second
    english = (
        f"{world.indefinite_article(colour_a)} {colour_a} {shape_a} and "
        f"{world.indefinite_article(colour_b)} {colour_b} {shape_b}"
    )
    chinese = (
        f"一个{world.COLOUR_ZH[colour_a]}的{world.SHAPE_ZH[shape_a]}和"
        f"一个{world.COLOUR_ZH[colour_b]}的{world.SHAPE_ZH[shape_b]}"
    )
    return {"en": english, "zh": chinese}


class Tally:
    def __init__(self):
        self.hits: dict[str, int] = {}
        self.totals: dict[str, int] = {}

    def add(self, name: str, hit: bool) -> None:
        self.hits[name] = self.hits.get(name, 0) + int(hit)
        self.totals[name] = self.totals.get(name, 0) + 1

    def report(self) -> dict[str, dict]:
        return {
            name: {"hits": self.hits[name], "total": total, "rate": self.hits[name] / total}
            for name, total in sorted(self.totals.items())
        }


def evaluate_gallery(encoder, rng: random.Random, size: int, tally: Tally) -> None:
    scenes = [random_eval_scene(rng) for _ in range(size)]
    images = [render_eval_scene(scene, rng) for scene in scenes]
    encoded = [encoder.encode_image(image) for image in images]
    pooled = F.normalize(torch.stack([item[0] for item in encoded]), dim=-1)

    # Single-object retrieval.
    present = sorted({pair for scene in scenes for pair in ((o.colour, o.shape) for o in scene.objects)})
    for colour, shape in present:
        label = world.CLASS_INDEX[(colour, shape)]
        for language, texts in single_object_queries(colour, shape).items():
            scores = F.normalize(encoder.encode_texts(texts, "short"), dim=-1) @ pooled.T
            for row in scores:
                tally.add(f"single_object_top1_{language}", label in scenes[int(row.argmax())].labels)

    # Two-object captions: scenes with both above scenes with one.
    label_sets = [scene.labels for scene in scenes]
    for first, second in itertools.combinations(present, 2):
        a, b = world.CLASS_INDEX[first], world.CLASS_INDEX[second]
        both = [i for i, labels in enumerate(label_sets) if a in labels and b in labels]
        one = [i for i, labels in enumerate(label_sets) if (a in labels) != (b in labels)]
        if not both or not one:
            continue
        for language, text in pair_queries(first, second).items():
            scores = (F.normalize(encoder.encode_texts([text], "short"), dim=-1) @ pooled.T)[0]
            tally.add(f"two_object_both_above_one_{language}", bool(scores[both].min() > scores[one].max()))
            tally.add(f"two_object_top1_has_both_{language}", int(scores.argmax()) in both)
            for both_index in both:
                for one_index in one:
                    tally.add(f"two_object_pair_order_{language}", bool(scores[both_index] > scores[one_index]))

    # Long positional captions rank their own scene first.
    for language, write in (("en", world.long_caption_en), ("zh", world.long_caption_zh)):
        texts = [write(scene, rng) for scene in scenes]
        scores = F.normalize(encoder.encode_texts(texts, "long"), dim=-1) @ pooled.T
        for index, row in enumerate(scores):
            tally.add(f"long_caption_top1_{language}", int(row.argmax()) == index)

    # Regions: best candidate box for each object's phrase.
    for scene, (_, dense, shapes) in zip(scenes, encoded):
        truth = [list(item.box) for item in scene.objects]
        candidates = torch.tensor(truth + window_grid(scene.width, scene.height), dtype=torch.float32)
        features = F.normalize(region_features(dense, shapes, [candidates], [(scene.width, scene.height)]), dim=-1)
        truth_boxes = torch.tensor(truth, dtype=torch.float32)
        for index, item in enumerate(scene.objects):
            for language, phrase in (
                ("en", f"{item.colour} {item.shape}"),
                ("zh", f"{world.COLOUR_ZH[item.colour]}的{world.SHAPE_ZH[item.shape]}"),
            ):
                query = F.normalize(encoder.encode_texts([phrase], "box"), dim=-1)[0]
                scores = features @ query
                best = int(scores.argmax())
                same_class = [j for j, other in enumerate(scene.objects) if other.label == item.label]
                iou = box_iou(candidates[best : best + 1], truth_boxes[same_class]).max()
                tally.add(f"region_iou50_{language}", bool(iou >= 0.5))
                # Choosing among the objects' own boxes only.
                chosen = int(scores[: len(truth)].argmax())
                tally.add(f"region_object_choice_{language}", scene.objects[chosen].label == item.label)


def evaluate_same_objects(encoder, rng: random.Random, groups: int, group_size: int, tally: Tally) -> None:
    for _ in range(groups):
        kinds = rng.sample(world.CLASSES, rng.choice((3, 4)))
        scenes = []
        while len(scenes) < group_size:
            scene = random_eval_scene(rng, count=len(kinds), required=kinds)
            # A crowded layout can leave an object out, and such a scene would differ by more
            # than places.
            if len(scene.objects) == len(kinds):
                scenes.append(scene)
        images = [render_eval_scene(scene, rng) for scene in scenes]
        pooled = F.normalize(torch.stack([encoder.encode_image(image)[0] for image in images]), dim=-1)
        for language, write in (("en", world.long_caption_en), ("zh", world.long_caption_zh)):
            texts = [write(scene, rng, 1.0) for scene in scenes]
            scores = F.normalize(encoder.encode_texts(texts, "long"), dim=-1) @ pooled.T
            for index, row in enumerate(scores):
                tally.add(f"long_same_objects_top1_{language}", int(row.argmax()) == index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bundle", type=Path, help="bundle folder to evaluate with ONNX Runtime")
    source.add_argument("--checkpoint", type=Path, help="PyTorch checkpoint to evaluate")
    parser.add_argument("--galleries", type=int, default=6, help="number of galleries")
    parser.add_argument("--gallery-size", type=int, default=50, help="scenes per gallery")
    parser.add_argument("--seed", type=int, default=7, help="seed of the evaluation scenes")
    parser.add_argument("--groups", type=int, default=20, help="groups of scenes with the same objects")
    parser.add_argument("--group-size", type=int, default=8, help="scenes per group of the same objects")
    parser.add_argument("--threads", type=int, default=2, help="torch and ONNX Runtime threads")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    encoder = BundleEncoder(args.bundle, args.threads) if args.bundle else CheckpointEncoder(args.checkpoint)
    rng = random.Random(args.seed)
    tally = Tally()
    for gallery in range(args.galleries):
        evaluate_gallery(encoder, rng, args.gallery_size, tally)
        log.info("gallery %d/%d done", gallery + 1, args.galleries)
    evaluate_same_objects(encoder, random.Random(args.seed + 1), args.groups, args.group_size, tally)
    results = tally.report()
    for name, entry in results.items():
        log.info("%-32s %5.1f%%  (%d/%d)", name, 100 * entry["rate"], entry["hits"], entry["total"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
