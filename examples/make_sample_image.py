"""Draws examples/car.jpg, the sample picture the README's examples edit: a blue car on a road
under a sky. Made here from shapes, so it is the project's own (same licence as the code).

    .venv/bin/python examples/make_sample_image.py   # rewrites examples/car.jpg
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = (640, 400)
TARGET = Path(__file__).with_name("car.jpg")


def draw_car() -> Image.Image:
    picture = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(picture)
    width, height = SIZE
    for y in range(height * 3 // 5):  # sky: light blue fading to white at the horizon
        shade = y / (height * 3 / 5)
        draw.line([(0, y), (width, y)], fill=(int(120 + 120 * shade), int(170 + 70 * shade), 235))
    draw.rectangle([0, height * 3 // 5, width, height], fill=(90, 140, 70))  # grass
    draw.polygon([(0, 330), (width, 300), (width, 370), (0, 400)], fill=(70, 70, 75))  # road
    draw.ellipse([470, 40, 540, 110], fill=(255, 225, 120))  # sun
    draw.rounded_rectangle([150, 220, 490, 310], radius=30, fill=(40, 80, 200))  # body
    draw.polygon([(220, 222), (270, 160), (400, 160), (450, 222)], fill=(40, 80, 200))  # cabin
    draw.polygon([(240, 218), (278, 172), (330, 172), (330, 218)], fill=(200, 225, 245))
    draw.polygon([(342, 218), (342, 172), (392, 172), (430, 218)], fill=(200, 225, 245))
    draw.rectangle([470, 240, 490, 256], fill=(255, 240, 170))  # headlight
    for x in (210, 420):  # wheels
        draw.ellipse([x - 38, 272, x + 38, 348], fill=(25, 25, 25))
        draw.ellipse([x - 16, 294, x + 16, 326], fill=(170, 170, 175))
    return picture


def main() -> None:
    draw_car().save(TARGET, "JPEG", quality=85, optimize=True)
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
