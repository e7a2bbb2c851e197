# Shared by the trace-category scripts of the benches (ApiBench/trace-categories.py,
# Bench/validation-trace-categories.py, ExportBench/import-trace-categories.py): reading a speedscope file written by
# `dotnet-trace convert --format speedscope`, and giving each sampled interval to the first category that matches.
import json, re

# Innermost frames of a thread that is parked, not working: idle pool threads, event loops, timers, the finalizer.
WAIT = re.compile(r'Monitor\.Wait|WaitOneNoCheck|LowLevelLifoSemaphore\.Wait|Interop\+Sys\.Read|WaitForSignal|LowLevelSpinWaiter|'
                  r'ManualResetEventSlim\.Wait|Sys\.WaitForSocketEvents|epoll|Thread\.Sleep|SemaphoreSlim\.Wait|RunFinalizers|'
                  r'Finalize\(|SpinThenBlockingWait|Heartbeat|TimerQueue.TimerThread|FileSystemWatcher|SocketAsyncEngine.EventLoop')


def intervals(path):
    """Yields (frame names outermost first, duration in ms) for every interval a thread spent on one stack."""
    data = json.load(open(path))
    frames = [f['name'] for f in data['shared']['frames']]
    for profile in data['profiles']:
        stack = []
        last = None
        for event in profile['events']:
            at = event['at']
            if last is not None and stack and at > last:
                yield [frames[s] for s in stack], at - last
            last = at
            if event['type'] == 'O':
                stack.append(event['frame'])
            elif stack:
                stack.pop()


def compile_categories(pairs):
    return [(name, re.compile(pattern)) for name, pattern in pairs]


def category(names, categories, default='other'):
    """The first category (order matters) whose pattern matches any frame of the stack."""
    for name, pattern in categories:
        if any(pattern.search(frame) for frame in names):
            return name
    return default
