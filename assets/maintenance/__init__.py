"""Lake maintenance: keeping every Delta table cheap to write and read."""
