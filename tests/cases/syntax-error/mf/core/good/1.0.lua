setenv("GOOD_V", "1.0")
prepend_path("PATH", "/opt/good/1.0/bin")
