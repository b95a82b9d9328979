setenv("BAD_BEFORE", "1")
prepend_path("PATH", "/opt/bad/bin")
LmodError("bad cannot be loaded here")
setenv("BAD_AFTER", "1")
