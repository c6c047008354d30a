"""Crisis service: a structure's cyber crisis from the first report to the lessons learned."""
