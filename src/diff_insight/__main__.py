from diff_insight.cli import main

if __name__ == "__main__":
    main()
