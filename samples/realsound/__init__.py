"""The real-sound test set: committed clips from Debian/PyPI packages (fetch.py) and the mixer (build.py)."""
