setenv("X_V", "2.0")
prepend_path("PATH", "/opt/x/2.0/bin")
