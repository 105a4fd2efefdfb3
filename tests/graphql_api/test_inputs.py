from __future__ import annotations

import io
from typing import cast

import pytest
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from graphql_api.inputs import ImageInput, image_source
from tasks.errors import InvalidRequest
from tasks.requests import UploadSource


@pytest.mark.parametrize("value", ["abc", 5, True, {"filename": "a.png"}, [1]])
def test_an_upload_given_as_a_json_value_is_not_a_file(value: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        image_source(ImageInput(upload=cast(Upload, value)), "input.referenceImage")
    assert caught.value.extensions["reason"] == "NOT_A_FILE"
    assert caught.value.extensions["field"] == "input.referenceImage.upload"


def test_a_multipart_file_part_is_an_upload_source() -> None:
    part = UploadFile(io.BytesIO(b"\x89PNG"), filename="a.png")
    source = image_source(ImageInput(upload=cast(Upload, part)), "image")
    assert isinstance(source, UploadSource) and source.file is part
