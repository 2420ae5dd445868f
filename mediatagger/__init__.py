"""mediatagger: find where the laughs, applause, music and feelings are in footage."""

__version__ = "0.1.0"
