"""Static files storage: WhiteNoise's compressed manifest storage, with a quicker brotli.

WhiteNoise compresses every file at brotli's maximum quality, about 5 s per megabyte here: with
the API documentation bundles (several megabytes, plus their source maps) the first
``carbet serve`` spent over a minute on it. Quality 5 is about thirty times faster and within
a few percent of the size; source maps (read only by developer tools) are not compressed.
"""

from __future__ import annotations

from typing import Any

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is optional for WhiteNoise
    brotli = None

BROTLI_QUALITY = 5


class QuickCompressor(Compressor):
    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        return brotli.compress(data, quality=BROTLI_QUALITY)


class CarbetStaticStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs: Any) -> Compressor:
        extensions = kwargs.get("extensions") or Compressor.SKIP_COMPRESS_EXTENSIONS
        kwargs["extensions"] = (*extensions, "map")
        return QuickCompressor(**kwargs)
