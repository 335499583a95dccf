"""The tus 1.0 resumable upload protocol, sans I/O: request headers, one upload's state and
stages, the bytes of a PATCH, and the answers (``gridfield.web``'s tus apps and the twins'
``resumable`` stores do the I/O)."""

from .headers import (
    CHECKSUM_ALGORITHMS,
    OFFSET_CONTENT_TYPE,
    TUS_VERSION,
    Checksum,
    Concat,
    TusError,
    check_version,
    effective_method,
    format_expires,
    parse_checksum,
    parse_concat,
    parse_defer_length,
    parse_expires,
    parse_metadata,
    parse_number,
)
from .options import EXTENSIONS, TusOptions
from .patch import Finished, PatchReceiver
from .requests import (
    Creation,
    FileNaming,
    PatchRequest,
    check_declared_type,
    check_length,
    default_naming,
    parse_creation,
    parse_patch,
)
from .responses import (
    TusResponse,
    created,
    discovery,
    error_response,
    patched,
    status_of_upload,
    terminated,
)
from .state import Event, Stage, UploadState, aware

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "EXTENSIONS",
    "OFFSET_CONTENT_TYPE",
    "TUS_VERSION",
    "Checksum",
    "Concat",
    "Creation",
    "Event",
    "FileNaming",
    "Finished",
    "PatchReceiver",
    "PatchRequest",
    "Stage",
    "TusError",
    "TusOptions",
    "TusResponse",
    "UploadState",
    "aware",
    "check_declared_type",
    "check_length",
    "check_version",
    "created",
    "default_naming",
    "discovery",
    "effective_method",
    "error_response",
    "format_expires",
    "parse_checksum",
    "parse_concat",
    "parse_creation",
    "parse_defer_length",
    "parse_expires",
    "parse_metadata",
    "parse_number",
    "parse_patch",
    "patched",
    "status_of_upload",
    "terminated",
]
