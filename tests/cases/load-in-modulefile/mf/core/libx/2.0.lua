prepend_path("PATH", "/opt/libx/bin")
