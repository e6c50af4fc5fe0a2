"""Rules from the service norms that are code: wording, calendar, privacy."""
