from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newsflow")  # pyproject.toml's, as installed
except PackageNotFoundError:  # a checkout on sys.path that was never installed
    __version__ = "0+unknown"
