"""Error types with messages meant for people.

Every error raised on bad input names the file, URL or argument at fault and says what to do. The command line
catches :class:`NSTError` and prints its message on one line, without a traceback.
"""


class NSTError(Exception):
    """Base class of every error this package raises on purpose."""


class ImageError(NSTError, ValueError):
    """An image could not be read, decoded, converted or saved."""


class DownloadError(NSTError, OSError):
    """A URL could not be fetched, was too big, or failed its checksum."""


class WeightsError(NSTError, RuntimeError):
    """VGG19 weights are missing, corrupted or cannot be downloaded."""
