setenv("BROKEN", "1")
if then
prepend_path("PATH", "/opt/broken/bin")
