"""The multipart side of `/images/edits` and `/images/variations`: which parts are files, and
whether each file is an image the model accepts (type, size, shape, alpha), in OpenAI's words.
"""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile

from mediarouter.sandbox.images import inspect_image
from mediarouter.sandbox.openai.errors import OpenAIError, invalid_request
from mediarouter.sandbox.openai.fields import RequestFields, listing
from mediarouter.sandbox.openai.models import ModelSpec
from mediarouter.sandbox.openai.params import InputImage

FILE_FIELDS = {"edits": ("image", "image[]", "mask"), "variations": ("image",)}
IMAGE_MIME_TYPES = ("image/jpeg", "image/png", "image/webp")
MIME_ALIASES = {"image/jpg": "image/jpeg"}
GPT_IMAGE_MAX_BYTES = 50 * 1024 * 1024
LEGACY_MAX_BYTES = 4 * 1024 * 1024  # dall-e-2 images and every mask
ALPHA_MODES = ("RGBA", "LA", "L")  # what dall-e-2 (without a mask) and masks must be


def split_form(form: FormData, endpoint: str) -> tuple[RequestFields, list[tuple[str, UploadFile]]]:
    """Text fields (for `params.py`) and file parts; a file where text belongs, or the reverse, is a 400."""
    text: dict[str, str] = {}
    files: list[tuple[str, UploadFile]] = []
    file_fields = FILE_FIELDS[endpoint]
    for name, value in form.multi_items():
        if isinstance(value, str):
            if name in file_fields:
                message = f"Invalid type for '{name}': expected a file, but got a string instead."
                raise invalid_request(message, name.removesuffix("[]"), "invalid_type")
            text[name] = value
        elif name in file_fields:
            files.append((name, value))
        else:
            raise invalid_request(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
    return RequestFields(text, textual=True), files


async def read_images(
    files: list[tuple[str, UploadFile]], spec: ModelSpec, endpoint: str
) -> tuple[tuple[InputImage, ...], InputImage | None]:
    """The input images and the optional mask, each checked against the model's rules."""
    uploads = [f for name, f in files if name in ("image", "image[]")]
    masks = [f for name, f in files if name == "mask"]
    if not uploads:
        raise invalid_request("Missing required parameter: 'image'.", "image", "missing_required_parameter")
    limit = spec.max_edit_images if endpoint == "edits" else 1
    if len(uploads) > limit:
        message = (
            f"Invalid 'image': array too long. Expected an array with maximum length {limit}, "
            f"but got an array with length {len(uploads)} instead."
        )
        raise invalid_request(message, "image", "array_above_max_length")
    if len(masks) > 1:
        raise invalid_request("Invalid 'mask': expected one file, but got several.", "mask", "invalid_type")
    images = tuple([await _image(upload, i + 1, spec) for i, upload in enumerate(uploads)])
    mask = await _mask(masks[0], images[0]) if masks else None
    if not spec.is_gpt_image and mask is None and images[0].info.mode not in ALPHA_MODES:
        raise _mode_error("input image", images[0].info.mode)
    return images, mask


async def _image(upload: UploadFile, index: int, spec: ModelSpec) -> InputImage:
    mime = _mime(upload)
    if mime not in IMAGE_MIME_TYPES:
        message = (
            f"Invalid file 'image': unsupported mimetype ('{mime}'). "
            f"Supported file formats are {listing(IMAGE_MIME_TYPES)}."
        )
        raise invalid_request(message, "image", "unsupported_file_mimetype")
    data = await upload.read()
    info = inspect_image(data)
    if info is None or info.format not in ("png", "jpeg", "webp"):
        message = f"Invalid image file or mode for image {index}, please check your image file."
        raise invalid_request(message, "image", "invalid_image_file")
    if spec.is_gpt_image:
        if len(data) > GPT_IMAGE_MAX_BYTES:
            message = f"Image {index} is {len(data) / 2**20:.1f} MB; each image must be smaller than 50 MB."
            raise invalid_request(message, "image", "image_too_large")
        return InputImage(data, info)
    if info.format != "png" or len(data) > LEGACY_MAX_BYTES:
        raise invalid_request(
            "Uploaded image must be a PNG and less than 4 MB.", "image", "invalid_image_format"
        )
    if info.width != info.height:
        message = f"Uploaded image must be square; image {index} is {info.width}x{info.height}."
        raise invalid_request(message, "image", "invalid_image_format")
    return InputImage(data, info)


async def _mask(upload: UploadFile, first: InputImage) -> InputImage:
    data = await upload.read()
    info = inspect_image(data)
    if info is None or info.format != "png" or len(data) > LEGACY_MAX_BYTES:
        raise invalid_request(
            "Invalid mask: the mask must be a PNG and less than 4 MB.", "mask", "invalid_image_format"
        )
    if info.mode not in ALPHA_MODES:
        raise _mode_error("mask image", info.mode, "mask")
    if (info.width, info.height) != (first.info.width, first.info.height):
        message = (
            f"Invalid mask: the mask must have the same dimensions as the image "
            f"(image {first.info.width}x{first.info.height}, mask {info.width}x{info.height})."
        )
        raise invalid_request(message, "mask", "invalid_image_format")
    return InputImage(data, info)


def _mime(upload: UploadFile) -> str:
    declared = (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()
    return MIME_ALIASES.get(declared, declared)


def _mode_error(what: str, mode: str, param: str = "image") -> OpenAIError:
    allowed = ", ".join(f"'{m}'" for m in ALPHA_MODES)
    return invalid_request(
        f"Invalid {what} - format must be in [{allowed}], got {mode}.", param, "invalid_image_format"
    )
