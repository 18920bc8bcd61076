"""The way in: a message from the end of DATA to its record (parcel, stage order, intake,
workers)."""
