prepend_path("PATH", "/opt/shared/bin")
prepend_path("SHARED_LIST", "/opt/shared/lib")
