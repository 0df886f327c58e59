"""`python -m analyzer`: the `lora-lint` command line, for environments without its script on PATH."""

from analyzer.frontends.cli import main

if __name__ == "__main__":
    main()
