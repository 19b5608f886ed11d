"""The one exception type for mistakes a user can fix; the CLI prints it as a single line."""


class ZooError(Exception):
    """A problem with the user's input, stated with its fix."""
