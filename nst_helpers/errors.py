"""One family of errors with messages meant for people.

Every error a user can cause is an :class:`NSTError` and also the built-in exception that fits it, so both
``except NSTError`` and ``except ValueError`` (or ``TypeError``, ``FileNotFoundError``, ...) catch it. Each message
names the file, URL or argument at fault and says what to do. The command line prints it on one line, exit status 2.
"""


class NSTError(Exception):
    """Base class of every error this package raises on purpose."""


class SettingsError(NSTError, ValueError):
    """An option has a value outside what it accepts (a range, a list of names, a device that is not there)."""


class SettingsTypeError(NSTError, TypeError):
    """An option has a value of the wrong type (a string for a number, a float for a count, ...)."""


class ImageError(NSTError, ValueError):
    """An image could not be read, decoded, converted or saved."""


class ImageNotFoundError(ImageError, FileNotFoundError):
    """An input image file does not exist."""


class OutputPathError(NSTError, ValueError):
    """A result cannot be written where it was asked to go (a folder, an input image, a missing folder...)."""


class DownloadError(NSTError, OSError):
    """A URL could not be fetched, was too big, or failed its checksum."""


class WeightsError(NSTError, RuntimeError):
    """VGG19 weights are missing, corrupted or cannot be downloaded."""
