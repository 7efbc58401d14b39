"""The one error of the landing flow: a dropped file that cannot be taken in."""


class LandingError(ValueError):
    """A dropped file cannot be taken in; the message completes the sentence "The file ... ".

    It ends up in the error report beside the file in ``rejected/``.
    """
