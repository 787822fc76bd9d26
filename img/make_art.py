"""Draw the meme templates' pictures: flat shapes in Pillow, this project's own art.

Run once after changing a drawing (`python img/make_art.py`); the PNGs it writes are committed
and hashed into every meme made from them. Drawn at twice the size and scaled down, so edges are
smooth without an anti-aliasing library.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SCALE = 2
WIDTH = 1200
HERE = Path(__file__).resolve().parent / "templates"

INK = "#1f2430"
SKIN = "#f2c59b"
SKIN_SHADE = "#d9a27a"
SHIRT = "#3a6ea5"
CREAM = "#fbf7ef"


class Canvas:
    """A supersampled drawing surface with coordinates in final pixels."""

    def __init__(self, height: int, background: str = CREAM) -> None:
        self.height = height
        self.image = Image.new("RGB", (WIDTH * SCALE, height * SCALE), background)
        self.pen = ImageDraw.Draw(self.image)

    def s(self, *values: float) -> list[float]:
        return [v * SCALE for v in values]

    def rect(self, box, fill, radius=0, outline=None, width=0):
        self.pen.rounded_rectangle(
            self.s(*box), radius * SCALE, fill=fill, outline=outline, width=width * SCALE
        )

    def ellipse(self, box, fill, outline=None, width=0):
        self.pen.ellipse(self.s(*box), fill=fill, outline=outline, width=width * SCALE)

    def circle(self, cx, cy, r, fill, outline=None, width=0):
        self.ellipse((cx - r, cy - r, cx + r, cy + r), fill, outline, width)

    def polygon(self, points, fill, outline=None, width=0):
        flat = [c * SCALE for point in points for c in point]
        self.pen.polygon(flat, fill=fill, outline=outline, width=width * SCALE)

    def line(self, points, fill, width, joint="curve"):
        flat = [c * SCALE for point in points for c in point]
        self.pen.line(flat, fill=fill, width=round(width * SCALE), joint=joint)
        for x, y in (points[0], points[-1]):  # round caps
            self.circle(x, y, width / 2, fill)

    def arc(self, box, start, end, fill, width):
        self.pen.arc(self.s(*box), start, end, fill=fill, width=round(width * SCALE))

    def gradient(self, box, top, bottom):
        x0, y0, x1, y1 = box
        a, b = _rgb(top), _rgb(bottom)
        steps = int((y1 - y0) * SCALE)
        for i in range(steps):
            t = i / max(steps - 1, 1)
            colour = tuple(round(a[k] + (b[k] - a[k]) * t) for k in range(3))
            y = y0 * SCALE + i
            self.pen.line([(x0 * SCALE, y), (x1 * SCALE, y)], fill=colour)

    def finish(self) -> Image.Image:
        return self.image.resize((WIDTH, self.height), Image.Resampling.LANCZOS)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def face(c: Canvas, cx, cy, r, mood: str, hair="#4a3426"):
    """A round head; mood is happy, grumpy, calm, worried, amazed or surprised."""
    c.circle(cx, cy, r, SKIN, INK, 4)
    c.pen.chord(c.s(cx - r, cy - r, cx + r, cy + r * 0.2), 180, 360, fill=hair)
    c.arc((cx - r, cy - r, cx + r, cy + r), 0, 360, INK, 4)
    eye_y, dx = cy + r * 0.1, r * 0.38
    if mood in ("happy", "calm"):
        for sx in (-dx, dx):
            c.arc((cx + sx - 14, eye_y - 10, cx + sx + 14, eye_y + 14), 200, 340, INK, 5)
    elif mood == "grumpy":
        for sx in (-dx, dx):
            c.line([(cx + sx - 14, eye_y + 2), (cx + sx + 14, eye_y + 2)], INK, 5)
        c.line([(cx - dx - 18, eye_y - 18), (cx - dx + 14, eye_y - 10)], INK, 5)
        c.line([(cx + dx + 18, eye_y - 18), (cx + dx - 14, eye_y - 10)], INK, 5)
    else:
        size = 13 if mood in ("amazed", "surprised") else 10
        for sx in (-dx, dx):
            c.circle(cx + sx, eye_y, size, "white", INK, 3)
            c.circle(cx + sx, eye_y + 2, size * 0.5, INK)
    mouth_y = cy + r * 0.55
    if mood == "happy":
        c.pen.chord(c.s(cx - 26, mouth_y - 24, cx + 26, mouth_y + 18), 0, 180, fill="#8e3b3b")
    elif mood == "calm":
        c.arc((cx - 20, mouth_y - 20, cx + 20, mouth_y + 6), 20, 160, INK, 4)
    elif mood == "grumpy":
        c.arc((cx - 22, mouth_y - 4, cx + 22, mouth_y + 22), 200, 340, INK, 5)
    elif mood == "worried":
        c.line(
            [
                (cx - 20, mouth_y + 4),
                (cx - 7, mouth_y - 3),
                (cx + 7, mouth_y + 4),
                (cx + 20, mouth_y - 3),
            ],
            INK,
            4,
        )
    else:
        c.ellipse((cx - 14, mouth_y - 14, cx + 14, mouth_y + 18), "#8e3b3b", INK, 3)
    c.circle(cx - r * 0.62, cy + r * 0.42, r * 0.13, "#f19a8b")
    c.circle(cx + r * 0.62, cy + r * 0.42, r * 0.13, "#f19a8b")


def badge(c: Canvas, cx, cy, r, good: bool):
    c.circle(cx, cy, r, "#2f9e55" if good else "#d64541", "white", 6)
    if good:
        c.line(
            [(cx - r * 0.45, cy), (cx - r * 0.1, cy + r * 0.38), (cx + r * 0.5, cy - r * 0.35)],
            "white",
            12,
        )
    else:
        k = r * 0.4
        c.line([(cx - k, cy - k), (cx + k, cy + k)], "white", 12)
        c.line([(cx - k, cy + k), (cx + k, cy - k)], "white", 12)


def prefer() -> Image.Image:
    c = Canvas(900)
    for top, tint, good in ((0, "#f7d9d4", False), (450, "#d5eedb", True)):
        c.rect((0, top, 500, top + 450), tint)
        c.rect((500, top, 1200, top + 450), "#ffffff")
        body_top = top + 300
        c.rect((120, body_top, 380, top + 470), SHIRT, radius=60)
        face(c, 250, top + 205, 105, "happy" if good else "grumpy")
        if good:  # a pointing arm towards the text
            c.line([(330, top + 370), (430, top + 300)], SHIRT, 44)
            c.circle(445, top + 290, 28, SKIN, INK, 3)
            c.line([(455, top + 285), (488, top + 268)], SKIN, 18)
        else:  # a raised palm, refusing
            c.line([(150, top + 380), (110, top + 250)], SHIRT, 44)
            c.rect((60, top + 165, 150, top + 265), SKIN, radius=30, outline=INK, width=3)
        badge(c, 440, top + 80, 46, good)
    c.line([(0, 450), (1200, 450)], "#d8d2c4", 4)
    c.line([(500, 0), (500, 900)], "#d8d2c4", 4)
    return c.finish()


def two_buttons() -> Image.Image:
    c = Canvas(900, "#e9eef5")
    c.gradient((0, 0, 1200, 560), "#dbe6f3", "#c4d3e6")
    c.polygon([(40, 420), (1160, 420), (1080, 560), (120, 560)], "#59687d")
    c.polygon([(40, 420), (1160, 420), (1160, 440), (40, 440)], "#6f8097")
    for cx, colour, shade in ((330, "#e0483e", "#a8302a"), (870, "#2f7fd8", "#1f5aa0")):
        c.ellipse((cx - 150, 420, cx + 150, 520), "#3d4757")
        c.ellipse((cx - 125, 400, cx + 125, 490), shade)
        c.ellipse((cx - 125, 380, cx + 125, 470), colour)
        c.ellipse((cx - 70, 395, cx - 10, 420), "#ffffff")
        c.rect((cx - 250, 40, cx + 250, 300), "#ffffff", radius=28, outline="#9aa7b8", width=5)
        c.line([(cx, 300), (cx, 372)], "#9aa7b8", 8)
    # the person who must choose, sweating
    c.gradient((0, 560, 1200, 900), "#b9c7d9", "#93a6bf")
    c.rect((450, 770, 750, 960), SHIRT, radius=80)
    face(c, 600, 700, 110, "worried")
    for x, y in ((470, 640), (735, 655), (715, 600)):
        c.polygon([(x, y - 22), (x - 12, y + 4), (x + 12, y + 4)], "#7cc4f2")
        c.circle(x, y + 6, 12, "#7cc4f2")
    c.line([(460, 860), (420, 740), (500, 650)], SHIRT, 46)
    c.rect((470, 600, 560, 660), SKIN, radius=26, outline=INK, width=3)
    return c.finish()


def brain(c: Canvas, cx, cy, r, colour, glow: int, panel=None):
    if glow:
        halo = Image.new("RGBA", c.image.size, (0, 0, 0, 0))
        hpen = ImageDraw.Draw(halo)
        for k in range(glow * 5, 0, -1):
            radius = (r * (1.0 + 0.16 * k)) * SCALE
            alpha = int(22 + 6 * glow)
            hpen.ellipse(
                [
                    cx * SCALE - radius,
                    cy * SCALE - radius * 0.8,
                    cx * SCALE + radius,
                    cy * SCALE + radius * 0.8,
                ],
                fill=(255, 244, 170, alpha),
            )
        halo = halo.filter(ImageFilter.GaussianBlur(14 * SCALE))
        x0, y0, x1, y1 = (round(v * SCALE) for v in panel)
        region = halo.crop((x0, y0, x1, y1))  # the glow stays inside its own panel
        c.image.paste(region, (x0, y0), region)
        c.pen = ImageDraw.Draw(c.image)
    if glow >= 3:
        for k in range(16):
            angle = k * math.tau / 16
            inner, outer = r * 1.2, r * 1.75
            c.line(
                [
                    (cx + inner * math.cos(angle), cy + inner * 0.8 * math.sin(angle)),
                    (cx + outer * math.cos(angle), cy + outer * 0.8 * math.sin(angle)),
                ],
                "#fff7c2",
                6,
            )
    lobes = [(-0.45, -0.2), (0.0, -0.35), (0.45, -0.2), (-0.5, 0.2), (0.0, 0.15), (0.5, 0.2)]
    for dx, dy in lobes:
        c.circle(cx + dx * r, cy + dy * r, r * 0.48, colour)
    for dx, dy in lobes:
        c.arc(
            (
                cx + dx * r - r * 0.3,
                cy + dy * r - r * 0.25,
                cx + dx * r + r * 0.3,
                cy + dy * r + r * 0.25,
            ),
            200,
            330,
            "#00000055" if glow < 2 else "#b07a2a",
            4,
        )
    c.line([(cx, cy - r * 0.6), (cx, cy + r * 0.5)], "#0000004d" if glow < 2 else "#b07a2a", 4)


def brain_ladder() -> Image.Image:
    c = Canvas(1200, "#ffffff")
    rows = [
        ("#2b2f3a", "#2b2f3a", "#9aa0aa", 0, 70),
        ("#3b2d5c", "#503a7a", "#e7a1c4", 1, 85),
        ("#6b3fa0", "#9a5fd0", "#ffc1dd", 2, 95),
        ("#f2b632", "#fff1b8", "#fff6d6", 4, 100),
    ]
    for i, (top, bottom, colour, glow, r) in enumerate(rows):
        y0 = i * 300
        c.rect((0, y0, 640, y0 + 300), "#ffffff" if i % 2 == 0 else "#f6f4ef")
        c.gradient((640, y0, 1200, y0 + 300), top, bottom)
        brain(c, 920, y0 + 150, r, colour, glow, panel=(640, y0, 1200, y0 + 300))
        c.line([(0, y0 + 300), (1200, y0 + 300)], "#d9d4c8", 3)
    c.line([(640, 0), (640, 1200)], "#d9d4c8", 3)
    return c.finish()


def ship(c: Canvas, x, y, length, containers):
    c.polygon([(x, y), (x + length, y), (x + length - 50, y + 80), (x + 40, y + 80)], "#2e3d52")
    c.rect((x + 10, y - 6, x + length - 10, y + 8), "#c8483d")
    c.rect((x + length - 110, y - 110, x + length - 40, y - 6), "#f3f1ea", radius=6)
    for k in range(3):
        c.rect((x + length - 100 + k * 20, y - 96, x + length - 86 + k * 20, y - 80), "#6fa8dc")
    cx = x + 30
    for k, colour in enumerate(containers):
        row, col = divmod(k, 4)
        left = cx + col * 82
        top = y - 52 - row * 48
        c.rect((left, top, left + 78, top + 46), colour, radius=3, outline="#00000040", width=2)
        for j in range(1, 5):
            c.line([(left + j * 15, top + 6), (left + j * 15, top + 40)], "#00000030", 2)


def plant(c: Canvas, cx, base, happy: bool):
    c.polygon(
        [(cx - 80, base - 110), (cx + 80, base - 110), (cx + 60, base), (cx - 60, base)],
        "#c0643b" if happy else "#8a6a5a",
    )
    c.rect((cx - 90, base - 130, cx + 90, base - 105), "#d77a4e" if happy else "#9b7b6a", radius=6)
    if happy:
        c.line([(cx, base - 130), (cx, base - 360)], "#2f8f4e", 14)
        for side, y in ((-1, 190), (1, 240), (-1, 290), (1, 320)):
            c.ellipse(
                (
                    cx + side * 10 - (90 if side < 0 else 0),
                    base - y - 30,
                    cx + side * 10 + (90 if side > 0 else 0),
                    base - y + 20,
                ),
                "#3fb364",
            )
        for k in range(8):
            angle = k * math.tau / 8
            c.circle(cx + 46 * math.cos(angle), base - 400 + 46 * math.sin(angle), 32, "#ff7aa8")
        c.circle(cx, base - 400, 30, "#ffd23f")
    else:
        c.line(
            [
                (cx, base - 130),
                (cx + 10, base - 230),
                (cx + 70, base - 280),
                (cx + 110, base - 250),
            ],
            "#7c8a5a",
            12,
        )
        c.ellipse((cx - 60, base - 210, cx + 5, base - 180), "#8d9a6a")
        c.ellipse((cx + 60, base - 250, cx + 120, base - 215), "#8d9a6a")
        c.circle(cx + 118, base - 240, 18, "#a58a6a")


def before_after() -> Image.Image:
    c = Canvas(700)
    c.gradient((0, 0, 600, 700), "#6f7a89", "#a6adb8")
    c.gradient((600, 0, 1200, 700), "#ffd98a", "#fff4d8")
    for x, y in ((120, 60), (330, 90)):
        for dx, r in ((0, 50), (55, 62), (115, 46)):
            c.circle(x + dx, y + 200, r, "#566170")
    for k in range(18):
        x = 30 + (k * 71) % 560
        y = 320 + (k * 37) % 240
        c.line([(x, y), (x - 10, y + 30)], "#c9d6e8", 4)
    c.circle(1090, 250, 70, "#ffb938")
    for k in range(12):
        angle = k * math.tau / 12
        c.line(
            [
                (1090 + 90 * math.cos(angle), 250 + 90 * math.sin(angle)),
                (1090 + 125 * math.cos(angle), 250 + 125 * math.sin(angle)),
            ],
            "#ffb938",
            8,
        )
    c.rect((0, 640, 1200, 700), "#6b5a4e")
    plant(c, 300, 650, happy=False)
    plant(c, 900, 650, happy=True)
    c.polygon(
        [(560, 430), (620, 430), (620, 400), (680, 460), (620, 520), (620, 490), (560, 490)],
        "#ffffff",
        INK,
        4,
    )
    return c.finish()


def flame(c: Canvas, x, base, height, width):
    c.polygon(
        [
            (x - width / 2, base),
            (x - width / 3, base - height * 0.55),
            (x - width / 6, base - height * 0.4),
            (x, base - height),
            (x + width / 5, base - height * 0.5),
            (x + width / 3, base - height * 0.65),
            (x + width / 2, base),
        ],
        "#f26b2b",
    )
    c.polygon(
        [
            (x - width / 3, base),
            (x - width / 6, base - height * 0.45),
            (x, base - height * 0.7),
            (x + width / 6, base - height * 0.4),
            (x + width / 3, base),
        ],
        "#ffb238",
    )
    c.polygon([(x - width / 6, base), (x, base - height * 0.35), (x + width / 6, base)], "#ffe27a")


def calm_amid_chaos() -> Image.Image:
    c = Canvas(800, "#f3e1c4")
    c.gradient((0, 0, 1200, 620), "#f6d7a7", "#f1c27d")
    for k in range(9):  # smoke under the ceiling
        c.circle(60 + k * 140, 30 + (k % 2) * 25, 90, "#8b8178")
    c.rect((0, 620, 1200, 800), "#9a6b4a")
    for x in range(-20, 1240, 120):
        c.line([(x, 620), (x + 60, 800)], "#8a5d3f", 4)
    for x, h, w in (
        (60, 330, 170),
        (190, 230, 150),
        (1020, 360, 180),
        (1150, 280, 170),
        (880, 200, 130),
        (320, 160, 120),
    ):
        flame(c, x, 640, h, w)
    # table with a mug
    c.rect((690, 500, 900, 520), "#6b4a33", radius=6)
    c.rect((705, 520, 720, 660), "#6b4a33")
    c.rect((870, 520, 885, 660), "#6b4a33")
    c.rect((760, 440, 815, 500), "#ffffff", radius=8, outline=INK, width=4)
    c.arc((800, 452, 840, 488), 270, 90, INK, 6)
    for k in range(3):
        c.arc((770 + k * 14, 395, 790 + k * 14, 435), 200, 340, "#ffffffaa", 3)
    # the calm one, sitting
    c.rect((470, 610, 520, 700), "#4a4f5c")
    c.rect((600, 610, 650, 700), "#4a4f5c")
    c.rect((430, 430, 690, 640), "#3a8f6b", radius=90)
    face(c, 560, 360, 105, "calm")
    c.ellipse((470, 230, 650, 275), "#2e3d52")
    c.rect((505, 180, 615, 255), "#2e3d52", radius=18)
    c.line([(660, 520), (760, 470)], "#3a8f6b", 40)
    c.circle(765, 468, 22, SKIN, INK, 3)
    # speech bubble to the right
    c.ellipse((720, 150, 1150, 370), "#ffffff", INK, 5)
    c.polygon([(760, 320), (700, 380), (800, 345)], "#ffffff")
    c.line([(760, 332), (700, 380), (808, 352)], INK, 5)
    return c.finish()


def sweat(c: Canvas, x, y, size=14, colour="#7cc4f2"):
    """A drop of sweat flying off: a point on top, round below."""
    c.polygon([(x, y - size * 1.8), (x - size, y), (x + size, y)], colour)
    c.circle(x, y + size * 0.2, size, colour)


def classic() -> Image.Image:
    c = Canvas(800)
    c.gradient((0, 0, 1200, 800), "#5b6ee1", "#9a5fd0")
    for k in range(24):
        angle = k * math.tau / 24
        c.polygon(
            [
                (600, 430),
                (600 + 900 * math.cos(angle), 430 + 900 * math.sin(angle)),
                (600 + 900 * math.cos(angle + 0.13), 430 + 900 * math.sin(angle + 0.13)),
            ],
            "#7486ea" if k % 2 else "#8a6ee0",
        )
    # a shipping-container robot in a panic: hands clutching its head, eyebrows up, eyes wide
    # with tiny pupils, mouth open in a wail, sweat flying and alarm marks either side
    c.rect((440, 300, 760, 560), "#f2b632", radius=18, outline=INK, width=6)
    for j in range(1, 8):
        c.line([(440 + j * 40, 312), (440 + j * 40, 548)], "#d99a1c", 6)
    c.rect((480, 335, 720, 465), "#fff8e6", radius=16, outline=INK, width=5)
    for x, inner in ((545, 1), (655, -1)):
        c.circle(x, 395, 30, "white", INK, 4)
        c.circle(x, 395, 7, INK)
        # worried brows: raised, their inner ends highest
        c.line([(x - inner * 28, 352), (x + inner * 24, 340)], INK, 7)
    c.ellipse((572, 425, 628, 462), "#8e3b3b", INK, 4)  # the wail
    c.ellipse((586, 444, 614, 460), "#e07a7a")
    # arms bent up, hands pressed to the top corners of the head
    c.line([(440, 420), (360, 380), (420, 300)], INK, 14)
    c.line([(760, 420), (840, 380), (780, 300)], INK, 14)
    c.circle(430, 296, 24, "#f2b632", INK, 5)
    c.circle(770, 296, 24, "#f2b632", INK, 5)
    c.line([(520, 560), (505, 620)], INK, 14)  # knees knocking
    c.line([(680, 560), (695, 620)], INK, 14)
    c.rect((470, 612, 540, 632), INK, radius=8)
    c.rect((660, 612, 730, 632), INK, radius=8)
    for x, y, size in ((400, 250, 16), (812, 240, 18), (845, 300, 12), (372, 318, 12)):
        sweat(c, x, y, size)
    for x, lean in ((300, -1), (900, 1)):  # alarm marks
        for k in range(2):
            top = (x + lean * 40 * k, 330)
            c.line([top, (top[0] + lean * 10, top[1] + 80)], "#ffffff", 14)
            c.circle(top[0] + lean * 13, top[1] + 112, 9, "#ffffff")
    return c.finish()


def sinking_ship(c: Canvas, x, y, length, containers, tilt: float):
    """A ship listing by `tilt` radians, half under water, with bubbles."""
    layer = Image.new("RGBA", (WIDTH * SCALE, c.height * SCALE), (0, 0, 0, 0))
    sub = Canvas.__new__(Canvas)
    sub.height, sub.image, sub.pen = c.height, layer, ImageDraw.Draw(layer)
    ship(sub, x, y, length, containers)
    pivot = ((x + length / 2) * SCALE, (y + 40) * SCALE)
    layer = layer.rotate(math.degrees(tilt), resample=Image.Resampling.BICUBIC, center=pivot)
    c.image.paste(layer, (0, 0), layer)
    c.pen = ImageDraw.Draw(c.image)
    # the sea closes over the hull: the sea's own gradient (470 to 750, see labelled_scene)
    top, bottom = y + 40, min(750, y + 150)
    c.gradient((x - 40, top, 1200, bottom), *(_sea(top), _sea(bottom)))
    for k, (dx, dy, r) in enumerate(
        ((0.2, -20, 12), (0.45, -40, 8), (0.7, -25, 14), (0.9, -55, 9))
    ):
        c.circle(x + length * dx, y + 40 + dy - k * 6, r, "#ffffff", "#d6ecf7", 2)


def _sea(y: float) -> str:
    """The colour of the harbour's water at height `y`."""
    a, b = _rgb("#3b8fc4"), _rgb("#1f5f8f")
    t = (y - 470) / (750 - 470)
    return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * t):02x}" for k in range(3))


def labelled_scene() -> Image.Image:
    c = Canvas(750)
    c.gradient((0, 0, 1200, 470), "#9fd3f0", "#e4f4fb")
    c.circle(1080, 90, 50, "#ffe38a")
    for x, y in ((180, 110), (620, 70), (860, 170)):
        for dx, dy, r in ((0, 0, 34), (38, -12, 42), (80, 0, 32)):
            c.circle(x + dx, y + dy, r, "#ffffff")
    c.gradient((0, 470, 1200, 750), "#3b8fc4", "#1f5f8f")
    for k in range(14):
        x = 40 + k * 90
        c.arc((x, 520 + (k % 3) * 60, x + 60, 545 + (k % 3) * 60), 200, 340, "#ffffff80", 4)
    # the control tower on its quay
    c.rect((0, 440, 360, 500), "#8b8f96")
    c.rect((120, 250, 220, 450), "#e9e4da", outline="#5b5f66", width=4)
    c.polygon([(90, 250), (250, 250), (230, 190), (110, 190)], "#44536a")
    c.rect((100, 200, 240, 245), "#9fd0f5", outline="#44536a", width=4)
    c.line([(170, 190), (170, 150)], "#44536a", 6)
    c.circle(170, 144, 12, "#d64541")
    for k in range(3):
        c.rect((150, 290 + k * 50, 190, 320 + k * 50), "#b9c6d3")
    ship(c, 430, 470, 330, ["#e0483e", "#2f7fd8", "#f2b632", "#2f9e55", "#8e5bd6", "#e0483e"])
    sinking_ship(
        c, 800, 600, 360,
        ["#2f9e55", "#f2b632", "#2f7fd8", "#e0483e", "#2f7fd8", "#8e5bd6", "#f2b632"],
        tilt=0.22,
    )  # fmt: skip
    return c.finish()


def speech_bubble(c: Canvas, box, tail, fill="#ffffff", outline=INK, width=5):
    """An oval bubble with a tail pointing at `tail`."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    base = ((cx + tail[0]) / 2, (cy + tail[1]) / 2)
    c.polygon([(base[0] - 22, base[1]), tail, (base[0] + 22, base[1])], fill, outline, width)
    c.ellipse(box, fill, outline, width)
    c.polygon([(base[0] - 18, base[1] - 4), (tail[0] * 0.15 + base[0] * 0.85, tail[1] * 0.15
              + base[1] * 0.85), (base[0] + 18, base[1] - 4)], fill)  # fmt: skip


def little_cluster(c: Canvas, cx, cy, colour, scale=1.0, asking=True):
    """A small cluster robot: a rounded box with a face, one arm raised."""
    w, h = 70 * scale, 60 * scale
    c.rect((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), colour, radius=12 * scale,
           outline=INK, width=3)  # fmt: skip
    for dx in (-0.2, 0.2):
        c.circle(cx + dx * w, cy - 0.08 * h, 6 * scale, "white", INK, 2)
        c.circle(cx + dx * w, cy - 0.08 * h, 2.5 * scale, INK)
    c.ellipse((cx - 8 * scale, cy + 0.12 * h, cx + 8 * scale, cy + 0.3 * h), "#8e3b3b")
    if asking:
        c.line([(cx + w / 2, cy), (cx + w / 2 + 18 * scale, cy - h * 0.9)], INK, 6 * scale)
        c.circle(cx + w / 2 + 18 * scale, cy - h * 0.95, 9 * scale, colour, INK, 2)


def everyone_asking() -> Image.Image:
    c = Canvas(800, "#eef3f8")
    c.gradient((0, 0, 1200, 800), "#e8eef6", "#cfd9e8")
    c.rect((0, 640, 1200, 800), "#b4c0d2")
    # the git server: a tired rack at its desk, bags under its eyes
    c.rect((790, 470, 1150, 660), "#8a6a4f", radius=8)  # desk
    c.rect((820, 250, 1120, 520), "#44536a", radius=18, outline=INK, width=5)
    for k in range(3):
        c.rect((845, 270 + k * 40, 1095, 298 + k * 40), "#5d6f88", radius=6)
        c.circle(1075, 284 + k * 40, 6, "#f2b632" if k else "#d64541")
    c.rect((860, 390, 1080, 500), "#fbf7ef", radius=14, outline=INK, width=4)
    for x in (920, 1020):  # half-closed eyes with bags
        c.arc((x - 24, 410, x + 24, 450), 200, 340, INK, 5)
        c.line([(x - 24, 430), (x + 24, 430)], INK, 5)
        c.arc((x - 22, 436, x + 22, 462), 20, 160, "#8a93a6", 3)
    c.line([(945, 478), (995, 478)], INK, 5)
    c.rect((1120, 560, 1160, 640), "#ffffff", radius=6, outline=INK, width=3)  # coffee
    # the fleet, every one with a hand up and a question
    colours = ["#f2b632", "#2f9e55", "#e0483e", "#2f7fd8", "#8e5bd6"]
    spots = [(x, 450) for x in range(70, 700, 120)]  # three rows, clear of the caption strip
    spots += [(x, 545) for x in range(120, 760, 120)]
    spots += [(x, 635) for x in range(70, 700, 120)]
    for k, (x, y) in enumerate(spots):
        little_cluster(c, x, y, colours[k % len(colours)], 0.9 if y < 500 else 1.0)
    for k, (x, y) in enumerate(spots[:6]):  # small bubbles with a question mark
        if k % 2 == 0 and k:
            continue
        bx, by = x + 34, y - 95
        speech_bubble(c, (bx - 30, by - 24, bx + 30, by + 24), (x + 22, y - 42), width=3)
        c.arc((bx - 10, by - 16, bx + 10, by + 4), 180, 30, INK, 5)
        c.line([(bx + 8, by - 2), (bx, by + 6)], INK, 5)
        c.circle(bx, by + 14, 3, INK)
    # the big bubble the caption goes in, from the crowd towards the server
    speech_bubble(c, (40, 20, 680, 300), (300, 395))
    return c.finish()


def person(c: Canvas, cx, top, mood, shirt=SHIRT, hair="#4a3426", scale=1.0):
    """A standing figure from the waist up: body, then head."""
    r = 80 * scale
    c.rect((cx - 1.6 * r, top + 1.6 * r, cx + 1.6 * r, top + 4.4 * r), shirt, radius=r * 0.9)
    face(c, cx, top + r, r, mood, hair)


def is_this() -> Image.Image:
    c = Canvas(800, "#f6efe2")
    c.gradient((0, 0, 1200, 800), "#fff6e3", "#f2dcc0")
    for x in range(0, 1200, 150):  # a wall of panels behind
        c.line([(x, 0), (x, 620)], "#ead7b8", 4)
    c.rect((0, 620, 1200, 800), "#c9a982")
    # the one asking: turned towards the thing, arm stretched out to point at it
    person(c, 300, 300, "amazed", shirt="#3a8f6b", scale=1.0)
    c.line([(400, 470), (560, 360), (690, 280)], "#3a8f6b", 44)
    c.circle(705, 268, 28, SKIN, INK, 3)
    c.line([(712, 258), (752, 232)], SKIN, 16)
    # the thing: a glowing box floating in the air, with little motion lines
    glow = Image.new("RGBA", c.image.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(glow)
    pen.ellipse([s * SCALE for s in (790, 80, 1150, 380)], fill=(255, 240, 170, 150))
    glow = glow.filter(ImageFilter.GaussianBlur(30 * SCALE))
    c.image.paste(glow, (0, 0), glow)
    c.pen = ImageDraw.Draw(c.image)
    c.polygon([(880, 160), (1020, 120), (1090, 180), (950, 220)], "#7fb2e5", INK, 4)  # top
    c.polygon([(880, 160), (950, 220), (950, 340), (880, 280)], "#4d86c2", INK, 4)  # left
    c.polygon([(950, 220), (1090, 180), (1090, 300), (950, 340)], "#2f66a3", INK, 4)  # right
    c.circle(985, 170, 18, "#ffffff")  # a wheel on top, as on a ship's helm
    for k in range(8):
        angle = k * math.tau / 8
        c.line([(985, 170), (985 + 26 * math.cos(angle), 170 + 13 * math.sin(angle))],
               "#ffffff", 4)  # fmt: skip
    for dx, dy in ((-40, 40), (-55, 90), (-35, 140)):
        c.line([(880 + dx, 160 + dy), (850 + dx, 160 + dy)], "#b08a5a", 5)
    return c.finish()


def bell_curve() -> Image.Image:
    c = Canvas(800, "#ffffff")
    c.gradient((0, 0, 1200, 800), "#fbfcff", "#e9eef8")
    points = []
    for k in range(0, 241):
        x = 40 + k * 1120 / 240
        t = (x - 600) / 190
        points.append((x, 720 - 450 * math.exp(-t * t / 2)))
    c.polygon([*points, (1160, 720), (40, 720)], "#d7e3f6")
    c.line(points, "#3a6ea5", 8)
    c.line([(40, 722), (1160, 722)], INK, 4)
    for x in (410, 790):  # standard deviations, dashed
        for y in range(250, 720, 36):
            c.line([(x, y), (x, y + 18)], "#9aaccc", 3)
    # left: the beginner, grinning; middle: the expert, worried, glasses and sweat;
    # right: the master, calm under a hood
    face(c, 150, 610, 62, "happy", hair="#c98a3a")
    face(c, 600, 350, 70, "worried", hair="#2b2f3a")
    for dx in (-27, 27):
        c.circle(600 + dx, 357, 20, None, INK, 4)
    c.line([(593, 357), (607, 357)], INK, 4)
    sweat(c, 680, 320, 12)
    sweat(c, 520, 340, 10)
    c.pen.chord(c.s(990, 520, 1130, 660), 180, 360, fill="#5b4a7a")  # hood
    face(c, 1060, 610, 62, "calm", hair="#5b4a7a")
    c.arc((990, 520, 1130, 700), 180, 360, "#5b4a7a", 14)
    return c.finish()


def table_sign() -> Image.Image:
    c = Canvas(800, "#cfe8c6")
    c.gradient((0, 0, 1200, 520), "#bfe3f5", "#e6f5fb")
    c.rect((0, 500, 1200, 800), "#8cc47a")
    for x, y, r in ((120, 420, 90), (260, 450, 70), (1050, 430, 100), (1150, 470, 60)):
        c.rect((x - 12, y, x + 12, y + 110), "#7a5436")
        c.circle(x, y - r * 0.4, r, "#4f9a4a")
    # the one who will not be moved: sitting behind the table, mug in hand, smug
    person(c, 600, 150, "calm", shirt="#d96c3f", scale=0.95)
    c.line([(700, 440), (760, 400)], "#d96c3f", 40)
    c.rect((752, 352, 800, 408), "#ffffff", radius=8, outline=INK, width=4)
    c.arc((790, 362, 820, 396), 270, 90, INK, 5)
    # the folding table, and the big sign taped to its front
    c.rect((250, 470, 950, 500), "#6b4a33", radius=6)
    c.line([(320, 500), (280, 770)], "#4a4f5c", 10)
    c.line([(880, 500), (920, 770)], "#4a4f5c", 10)
    c.rect((300, 505, 900, 745), "#ffffff", radius=10, outline="#9aa7b8", width=5)
    for x in (330, 870):
        c.rect((x - 18, 498, x + 18, 520), "#f2d27a")  # tape
    return c.finish()


def unmasked() -> Image.Image:
    c = Canvas(900, CREAM)
    c.rect((0, 150, 600, 900), "#2f3b58")
    c.rect((600, 150, 1200, 900), "#3b2f58")
    c.line([(600, 150), (600, 900)], CREAM, 8)
    for px, masked in ((0, True), (600, False)):
        cx = px + 300
        c.polygon([(cx - 170, 860), (cx - 120, 560), (cx + 120, 560), (cx + 170, 860)],
                  "#7a2a3a")  # the cape  # fmt: skip
        c.rect((cx - 110, 540, cx + 110, 840), "#4a4f5c", radius=60)
        face(c, cx, 440, 100, "grumpy" if not masked else "calm", hair="#2b2f3a")
        if masked:  # a full mask with a key on it, and a hand coming to pull it off
            c.ellipse((cx - 112, 330, cx + 112, 550), "#8e5bd6", INK, 5)
            for dx in (-40, 40):
                c.ellipse((cx + dx - 26, 410, cx + dx + 26, 444), "#1f2430")
            c.circle(cx - 20, 500, 18, None, "#f2b632", 7)
            c.line([(cx - 2, 500), (cx + 50, 500)], "#f2b632", 7)
            c.line([(cx + 38, 500), (cx + 38, 516)], "#f2b632", 6)
            c.line([(px + 20, 380), (cx - 100, 400)], SHIRT, 40)
            c.circle(cx - 100, 400, 26, SKIN, INK, 3)
        else:  # the mask in the puller's hand, the face underneath caught out
            c.line([(px + 20, 330), (px + 120, 300)], SHIRT, 40)
            c.circle(px + 130, 296, 26, SKIN, INK, 3)
            c.ellipse((px + 110, 180, px + 290, 340), "#8e5bd6", INK, 5)
            for dx in (-32, 32):
                c.ellipse((px + 200 + dx - 20, 240, px + 200 + dx + 20, 266), "#1f2430")
            for x, y in ((cx + 120, 360), (cx - 125, 370)):
                sweat(c, x, y, 13)
    return c.finish()


DRAWINGS: dict[str, Callable[[], Image.Image]] = {
    "prefer": prefer,
    "two-buttons": two_buttons,
    "brain-ladder": brain_ladder,
    "labelled-scene": labelled_scene,
    "before-after": before_after,
    "calm-amid-chaos": calm_amid_chaos,
    "classic": classic,
    "everyone-asking": everyone_asking,
    "is-this": is_this,
    "bell-curve": bell_curve,
    "table-sign": table_sign,
    "unmasked": unmasked,
}


def main(names: list[str]) -> None:
    """Draw the named templates' art (all of them when none is named)."""
    for name, drawing in DRAWINGS.items():
        if names and name not in names:
            continue
        folder = HERE / name
        folder.mkdir(parents=True, exist_ok=True)
        drawing().save(folder / "art.png", optimize=True)
        print(f"drew {folder / 'art.png'}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
