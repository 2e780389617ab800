"""The agent: tasks found in the code, and the loop that turns a task into a validated edit."""
