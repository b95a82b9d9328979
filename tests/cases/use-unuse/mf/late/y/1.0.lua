setenv("Y_V", "1.0")
prepend_path("PATH", "/opt/y/1.0/bin")
