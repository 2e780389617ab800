"""Security choke points: file targets, workspace trust, process creation, secrets."""
