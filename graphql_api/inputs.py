"""GraphQL input types and their translation into domain requests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from graphql_api.scalars import Seed
from graphql_api.webhooks import WebhookInput, webhook_target
from tasks import (
    DEFAULT_WORKFLOW,
    AsyncReadable,
    Base64Source,
    GenerationRequest,
    ImageSource,
    InvalidRequest,
    StoredImageSource,
    UploadSource,
    UrlSource,
)


@strawberry.input(
    one_of=True,
    description=(
        "Exactly one way to give an image: a multipart `upload`, `base64` (raw or a data: URI; "
        "plain JSON requests only), an http(s) `url`, or the `imageId` of an earlier upload."
    ),
)
class ImageInput:
    upload: Upload | None = strawberry.UNSET
    base64: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    image_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input(description="Optional generation parameters; omitted ones take the defaults.")
class GenerationParametersInput:
    steps: int | None = strawberry.UNSET
    cfg: float | None = strawberry.UNSET
    guidance: float | None = strawberry.UNSET
    seed: Seed | None = strawberry.field(
        default=strawberry.UNSET, description="null or omitted: a random seed, reported back."
    )
    sampler: str | None = strawberry.UNSET
    scheduler: str | None = strawberry.UNSET
    denoise: float | None = strawberry.UNSET


@strawberry.input(
    description=(
        "One parameter of the chosen workflow that `parameters` does not type (see "
        "`workflows`: its parameters whose `inputField` is `options`), e.g. a LoRA's strength."
    )
)
class WorkflowOptionInput:
    name: str
    value: JSON = strawberry.field(
        description="A JSON value of the parameter's type; null: not given (its default)."
    )


@strawberry.input(description="An edit: a reference image and what to change in it.")
class GenerateImageInput:
    reference_image: ImageInput
    description: str = strawberry.field(description="The editing instruction.")
    parameters: GenerationParametersInput | None = None
    second_image: ImageInput | None = strawberry.field(
        default=None, description="An optional second reference image, stitched beside the first."
    )
    workflow: str = DEFAULT_WORKFLOW
    options: list[WorkflowOptionInput] | None = strawberry.field(
        default=None,
        description=(
            "The workflow's own parameters by name, checked against its manifest like "
            "`parameters` (unknown name, wrong type, out of range: BAD_USER_INPUT)."
        ),
    )
    count: int = strawberry.field(
        default=1, description="1 to 8 sibling tasks with consecutive seeds."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key returns the same task(s) instead of new ones.",
    )
    timeout_seconds: int | None = strawberry.field(
        default=None,
        description=(
            "Seconds from acceptance after which the task is stopped and fails as TIMED_OUT "
            "(1 to 86400; default from the server's settings)."
        ),
    )
    webhook: WebhookInput | None = strawberry.field(
        default=None,
        description=(
            "Notify this URL when the task ends (README: Webhooks); omitted: the caller's "
            "default webhook, if set (setWebhook)."
        ),
    )


@strawberry.input(description="A preset to save: its name and the parameters it sets.")
class SavePresetInput:
    name: str = strawberry.field(description="1 to 100 characters; the same name replaces it.")
    parameters: GenerationParametersInput


def parse_uuid(value: str, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise InvalidRequest.single(field, f"{value!r} is not a valid id.", "BAD_ID") from exc


def uploaded_file(value: object, field: str) -> AsyncReadable:
    """The multipart file an `upload` names. Strawberry declares Upload as bytes and passes any
    JSON value through; on Starlette a real file part arrives as an UploadFile."""
    if not isinstance(value, UploadFile):
        raise InvalidRequest.single(
            field,
            "An upload must be a file part of a multipart request (GraphQL multipart request "
            "spec), not a JSON value; in a JSON request use base64, url or imageId.",
            "NOT_A_FILE",
        )
    return value


def image_source(image: ImageInput, field: str) -> ImageSource:
    if image.upload:
        return UploadSource(file=uploaded_file(image.upload, f"{field}.upload"))
    if image.base64:
        return Base64Source(text=image.base64)
    if image.url:
        return UrlSource(url=image.url)
    if image.image_id:
        return StoredImageSource(image_id=parse_uuid(image.image_id, f"{field}.imageId"))
    raise InvalidRequest.single(field, "Give exactly one non-empty image source.", "EMPTY_IMAGE")


def given_parameters(parameters: GenerationParametersInput | None) -> dict[str, Any]:
    if parameters is None:
        return {}
    return {
        name: value
        for name, value in vars(parameters).items()
        if value is not strawberry.UNSET and value is not None
    }


TYPED_PARAMETERS = frozenset(
    field.python_name
    for field in GenerationParametersInput.__strawberry_definition__.fields  # type: ignore[attr-defined]
)
"""The parameters `GenerationParametersInput` types; a workflow's others go in `options`."""


def input_field(parameter: str) -> str:
    """Where a request sets a workflow parameter of this name."""
    named = {"description": "description", "image": "referenceImage", "image2": "secondImage"}
    if parameter in named:
        return named[parameter]
    return f"parameters.{parameter}" if parameter in TYPED_PARAMETERS else "options"


def given_options(options: list[WorkflowOptionInput] | None) -> dict[str, object]:
    given: dict[str, object] = {}
    for option in options or []:
        if option.name in given:
            raise InvalidRequest.single(
                f"input.options.{option.name}", "is given more than once.", "DUPLICATE_OPTION"
            )
        given[option.name] = option.value
    return given


def generation_request(data: GenerateImageInput, owner: str) -> GenerationRequest:
    second = data.second_image
    return GenerationRequest(
        owner=owner,
        description=data.description,
        reference_image=image_source(data.reference_image, "input.referenceImage"),
        second_image=image_source(second, "input.secondImage") if second else None,
        workflow=data.workflow,
        parameters=given_parameters(data.parameters),
        options=given_options(data.options),
        count=data.count,
        idempotency_key=data.idempotency_key,
        timeout_seconds=data.timeout_seconds,
        webhook=webhook_target(data.webhook) if data.webhook else None,
    )
