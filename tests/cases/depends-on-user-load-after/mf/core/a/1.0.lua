depends_on("dep")
setenv("A", "1")
