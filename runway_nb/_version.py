"""The package version: from the installed metadata, or the source tree's own."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("runway_nb")
except PackageNotFoundError:  # running from a source checkout that was not pip-installed
    __version__ = "0.1.0.dev0"
