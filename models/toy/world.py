"""The toy world: colours, shapes, backgrounds, scene records and their captions.

Both scene generators (`scenes.py` for training, `eval_scenes.py` for measurement) and
the tokenizer vocabulary use these definitions, so every caption a generator can write
tokenizes without unknown tokens.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")
SHAPES = ("circle", "square", "triangle")
BACKGROUNDS = ("white", "light grey", "dark grey")

COLOUR_ZH = {
    "red": "红色",
    "green": "绿色",
    "blue": "蓝色",
    "yellow": "黄色",
    "purple": "紫色",
    "orange": "橙色",
}
SHAPE_ZH = {"circle": "圆形", "square": "正方形", "triangle": "三角形"}
BACKGROUND_ZH = {"white": "白色", "light grey": "浅灰色", "dark grey": "深灰色"}

# Nine cells of a 3 x 3 grid over the image, row-major from the top left.
POSITION_EN = (
    "in the top left corner",
    "at the top",
    "in the top right corner",
    "on the left",
    "in the center",
    "on the right",
    "in the bottom left corner",
    "at the bottom",
    "in the bottom right corner",
)
POSITION_ZH = ("左上角", "上方", "右上角", "左边", "中间", "右边", "左下角", "下方", "右下角")

NUMBER_EN = {1: "one", 2: "two", 3: "three", 4: "four"}
NUMBER_ZH = {1: "一", 2: "两", 3: "三", 4: "四"}

# Every (colour, shape) pair is a class, numbered colour-major.
CLASSES = tuple((colour, shape) for colour in COLOURS for shape in SHAPES)
CLASS_INDEX = {pair: index for index, pair in enumerate(CLASSES)}


@dataclass
class SceneObject:
    """One shape in a scene; `box` is (x1, y1, x2, y2) in pixels of the saved image."""

    colour: str
    shape: str
    box: tuple[float, float, float, float]

    @property
    def label(self) -> int:
        return CLASS_INDEX[(self.colour, self.shape)]

    def contains(self, x, y):
        """Return whether points (x, y) lie inside the shape; works on floats and tensors.

        A circle fills its box, a square is its box, and a triangle has its apex at the top
        centre of the box and its base along the bottom edge.
        """
        x1, y1, x2, y2 = self.box
        centre_x, centre_y, half_width = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2
        if self.shape == "circle":
            return (x - centre_x) ** 2 + (y - centre_y) ** 2 <= half_width**2
        inside_box = (x >= x1) & (x <= x2) & (y >= y1) & (y <= y2)
        if self.shape == "square":
            return inside_box
        depth = (y - y1) / (y2 - y1)
        return inside_box & (abs(x - centre_x) <= depth * half_width)


@dataclass
class Scene:
    width: int
    height: int
    background: str
    objects: list[SceneObject] = field(default_factory=list)

    @property
    def labels(self) -> frozenset[int]:
        return frozenset(item.label for item in self.objects)

    def position_cell(self, item: SceneObject) -> int:
        """Return the 3 x 3 grid cell (0..8, row-major) that contains the object's box centre."""
        centre_x = (item.box[0] + item.box[2]) / 2
        centre_y = (item.box[1] + item.box[3]) / 2
        column = min(2, int(3 * centre_x / self.width))
        row = min(2, int(3 * centre_y / self.height))
        return row * 3 + column


def indefinite_article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def region_phrase_en(colour: str, shape: str, rng: random.Random) -> str:
    article = rng.choice(("", "", f"{indefinite_article(colour)} ", "the "))
    return f"{article}{colour} {shape}"


def region_phrase_zh(colour: str, shape: str, rng: random.Random) -> str:
    measure = rng.choice(("", "", "一个"))
    particle = rng.choice(("的", ""))
    return f"{measure}{COLOUR_ZH[colour]}{particle}{SHAPE_ZH[shape]}"


def join_en(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def join_zh(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return "、".join(parts[:-1]) + "和" + parts[-1]


def short_caption_en(objects: list[tuple[str, str]], rng: random.Random) -> str:
    """List the objects, for example "a red circle and a blue square"."""
    with_article = rng.random() < 0.7
    parts = [
        f"{indefinite_article(colour) + ' ' if with_article else ''}{colour} {shape}" for colour, shape in objects
    ]
    caption = join_en(parts)
    prefix = rng.choice(("", "", "", "a picture of ", "a photo of ", "an image with "))
    return prefix + caption


def short_caption_zh(objects: list[tuple[str, str]], rng: random.Random) -> str:
    """List the objects, for example "一个红色的圆形和一个蓝色的正方形"."""
    with_measure = rng.random() < 0.7
    with_particle = rng.random() < 0.7
    parts = [
        f"{'一个' if with_measure else ''}{COLOUR_ZH[colour]}{'的' if with_particle else ''}{SHAPE_ZH[shape]}"
        for colour, shape in objects
    ]
    caption = join_zh(parts)
    prefix = rng.choice(("", "", "", "一张有", "图片里有", "画面中有"))
    return prefix + caption


def background_en(scene: Scene, rng: random.Random) -> str:
    name = scene.background
    if "grey" in name and rng.random() < 0.3:
        name = name.replace("grey", "gray")
    return name


def inventory_en(scene: Scene) -> str:
    """List the objects without positions: "there are two shapes in the picture: one red
    circle and one blue square."."""
    count = len(scene.objects)
    verb, noun = ("is", "shape") if count == 1 else ("are", "shapes")
    names = join_en([f"one {item.colour} {item.shape}" for item in scene.objects])
    return f"there {verb} {NUMBER_EN[count]} {noun} in the picture: {names}."


def inventory_zh(scene: Scene) -> str:
    """List the objects without positions: "图片里有两个图形：一个红色的圆形和一个蓝色的正方形。"."""
    names = join_zh([f"一个{COLOUR_ZH[item.colour]}的{SHAPE_ZH[item.shape]}" for item in scene.objects])
    return f"图片里有{NUMBER_ZH[len(scene.objects)]}个图形：{names}。"


def long_caption_en(scene: Scene, rng: random.Random, inventory: float = 0.0) -> str:
    """Describe where each object is, in one of two styles, with or without the background.

    Sentence style: "a picture with two shapes on a white background. there is a red
    circle in the top left corner. ..."; list style: "a red circle in the top left corner
    and a blue square at the bottom". With probability `inventory` the sentence style is
    used and lists the objects first (see `inventory_en`), which takes four objects past
    the 64 tokens of the short walk.
    """
    count = len(scene.objects)
    # Drawn only when enabled, so that runs without it see the same random sequence.
    if inventory > 0 and rng.random() < inventory:
        items = list(scene.objects)
        rng.shuffle(items)
        sentences = [f"a picture with {NUMBER_EN[count]} {'shape' if count == 1 else 'shapes'}.", inventory_en(scene)]
        for item in items:
            position = POSITION_EN[scene.position_cell(item)]
            sentences.append(f"there is {indefinite_article(item.colour)} {item.colour} {item.shape} {position}.")
        return " ".join(sentences)
    items = list(scene.objects)
    rng.shuffle(items)
    if rng.random() < 0.5:
        parts = [
            f"{indefinite_article(item.colour)} {item.colour} {item.shape} {POSITION_EN[scene.position_cell(item)]}"
            for item in items
        ]
        caption = join_en(parts)
        if rng.random() < 0.5:
            caption += f" on a {background_en(scene, rng)} background"
        return caption
    noun = "shape" if count == 1 else "shapes"
    sentences = [f"a picture with {NUMBER_EN[count]} {noun} on a {background_en(scene, rng)} background."]
    for item in items:
        position = POSITION_EN[scene.position_cell(item)]
        if rng.random() < 0.5:
            sentences.append(f"there is {indefinite_article(item.colour)} {item.colour} {item.shape} {position}.")
        else:
            sentences.append(f"{position} there is {indefinite_article(item.colour)} {item.colour} {item.shape}.")
    return " ".join(sentences)


def long_caption_zh(scene: Scene, rng: random.Random, inventory: float = 0.0) -> str:
    """Describe where each object is, for example "左上角是一个红色的圆形，下方是一个蓝色的正方形".

    With probability `inventory` the objects are listed first (see `inventory_zh`).
    """
    count = len(scene.objects)
    if inventory > 0 and rng.random() < inventory:
        items = list(scene.objects)
        rng.shuffle(items)
        sentences = [inventory_zh(scene)]
        for item in items:
            sentences.append(f"{POSITION_ZH[scene.position_cell(item)]}是一个{COLOUR_ZH[item.colour]}的{SHAPE_ZH[item.shape]}。")
        return "".join(sentences)
    items = list(scene.objects)
    rng.shuffle(items)
    if rng.random() < 0.5:
        parts = [
            f"{POSITION_ZH[scene.position_cell(item)]}{rng.choice(('是', '有'))}"
            f"{rng.choice(('一个', ''))}{COLOUR_ZH[item.colour]}{rng.choice(('的', ''))}{SHAPE_ZH[item.shape]}"
            for item in items
        ]
        return "，".join(parts) + "。"
    sentences = [f"{BACKGROUND_ZH[scene.background]}背景上有{NUMBER_ZH[count]}个图形。"]
    for item in items:
        position = POSITION_ZH[scene.position_cell(item)]
        particle = rng.choice(("的", ""))
        verb = rng.choice(("是", "有"))
        sentences.append(f"{position}{verb}一个{COLOUR_ZH[item.colour]}{particle}{SHAPE_ZH[item.shape]}。")
    return "".join(sentences)


def vocabulary_texts() -> list[str]:
    """Return texts that together contain every word and character the captions use."""
    texts = []
    texts += COLOURS + SHAPES + BACKGROUNDS + POSITION_EN + POSITION_ZH
    texts += tuple(COLOUR_ZH.values()) + tuple(SHAPE_ZH.values()) + tuple(BACKGROUND_ZH.values())
    texts += tuple(NUMBER_EN.values()) + tuple(NUMBER_ZH.values())
    texts += (
        "a the an and , . 、 。 ， gray shape shapes there is with on of picture photo image",
        "一个 的 和 一张有 图片里有 画面中有 背景上有 个图形 是 有",
        # Words that queries outside the caption templates are likely to contain. They never
        # occur in training, so they only keep such queries free of unknown tokens.
        "circles squares triangles in at top bottom left right center centre corner corners middle",
        "upper lower side near next to above below beside between are two three four one object objects",
        "red green blue yellow purple orange white grey black light dark background backgrounds colour color",
        "个 两 三 四 上 下 左 右 中 间 边 角 面 在 旁 方 形 色 图 片 张 里 和 与 及 以 还 也 着 画",
        "， ： ; : ! ? ！ ？ ( ) （ ）",
    )
    return list(texts)
