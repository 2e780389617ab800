"""Protocol ring: the only package that imports pygls or lsprotocol."""
