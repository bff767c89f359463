//! Links the task like every task (see `lib/task-link`).
fn main() {
    task_link::emit()
}
