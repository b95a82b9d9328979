LmodMessage("a message for the user")
setenv("TALK", "1")
