set_shell_function("greet", 'echo "hello $1"; return 0', 'echo "hello \\!*"')
set_shell_function("two", "local x=1\necho $x", "echo 1")
