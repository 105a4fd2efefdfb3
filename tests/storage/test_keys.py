from __future__ import annotations

import re

from storage.keys import output_key, output_thumbnail_key, preview_key, validate_key

GROUP = "22481e25-d496-4cbd-873c-b7b347c013d5"


def test_generated_keys_carry_a_random_128_bit_hex_token() -> None:
    keys = [output_key(GROUP) for _ in range(3)] + [preview_key(GROUP) for _ in range(3)]
    for key in keys:
        assert re.fullmatch(rf"(outputs|previews)/{GROUP}/[0-9a-f]{{32}}\.(png|webp)", key), key
        assert validate_key(key) == key
    assert len(set(keys)) == len(keys)


def test_an_output_thumbnail_sits_beside_its_image() -> None:
    key = output_key(GROUP)
    assert output_thumbnail_key(key) == key.removesuffix(".png") + ".thumb.webp"
