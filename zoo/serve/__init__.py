"""`zoo serve`: every zoo model as a web service, and a page where people draw a digit."""
