from toolkit.cli.app import main

# Guarded: `ducha generate` may start a process pool, whose workers re-import __main__ on Windows.
if __name__ == "__main__":
    main()
