depends_on("dep")
setenv("B", "1")
