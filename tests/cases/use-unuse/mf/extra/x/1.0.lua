setenv("X_V", "1.0")
prepend_path("PATH", "/opt/x/1.0/bin")
