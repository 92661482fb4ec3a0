"""Pages of the indicators app: the staff form (submissions) and the coordinator's review."""
