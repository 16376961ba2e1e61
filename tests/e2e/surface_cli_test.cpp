// The operator-facing surface of the binary (issue 11): configuration is never guessed,
// usage errors are exit 2 with the nearest valid word, errors say what happened, where
// and what to do, and under --json stdout always carries exactly one JSON document.
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Surface : public ::testing::Test {
 protected:
  void SetUp() override { root_ = make_temp_dir("nodeimg-e2e-surface"); }
  void TearDown() override { fs::remove_all(root_); }
  void use_platform(const std::string& name) {
    fs::copy(fs::path(NODEIMG_FIXTURES) / "platforms" / name / "root", root_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  ProcessResult nodeimg(std::vector<std::string> args) {
    args.insert(args.begin(), NODEIMG_BINARY);
    return run(args);
  }
  // With the node's root given, as most tests do.
  ProcessResult on_root(std::vector<std::string> args) {
    args.insert(args.begin(), {"--root", root_.string()});
    return nodeimg(std::move(args));
  }
  void write(const std::string& path, const std::string& content) const {
    fs::create_directories((root_ / path.substr(1)).parent_path());
    std::ofstream(root_ / path.substr(1), std::ios::binary | std::ios::trunc) << content;
  }
  std::string read(const std::string& path) const { return read_file(root_ / path.substr(1)); }
  std::string conf() const { return (root_ / "etc/nodeimg/config.yaml").string(); }
  fs::path root_;
};

// stdout under --json: exactly one JSON document (parse throws on trailing text).
json only_document(const ProcessResult& r) {
  json doc;
  EXPECT_NO_THROW(doc = json::parse(r.out)) << "stdout: " << r.out << "\nstderr: " << r.err;
  return doc;
}

void expect_error_document(const ProcessResult& r, int exit_code, const std::string& says) {
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  const json doc = only_document(r);
  EXPECT_EQ(doc.value("schemaVersion", 0), 1) << r.out;
  EXPECT_EQ(doc.value("exitCode", -1), exit_code) << r.out;
  EXPECT_NE(doc.value("error", "").find(says), std::string::npos) << r.out;
}

// ---- --config is read as given, or it is an error ------------------------------------------

TEST_F(Surface, AnExplicitConfigThatIsNotAReadableFileIsExitTwoNeverTheDefaults) {
  use_platform("kubeadm");
  const std::string kubelet_before = read("/var/lib/kubelet/config.yaml");
  fs::create_directories(root_ / "confdir");
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  fs::create_symlink(root_ / "nowhere.yaml", root_ / "dangling.yaml");
  fs::create_symlink(root_ / "loop.yaml", root_ / "loop.yaml");
  struct Case {
    std::string path, says;
  };
  for (const auto& [path, says] : std::vector<Case>{
           {(root_ / "missing.yaml").string(), "missing.yaml: no such file"},
           {(root_ / "confdir").string(), "confdir: is a directory, not a file"},
           {(root_ / "confdir").string() + "/", "is a directory"},
           {(root_ / "confdir/.").string(), "is a directory"},
           {"/", "is a directory"},
           {(root_ / "fifo").string(), "is a FIFO, not a file"},
           {"/dev/null", "is a device, not a file"},
           {(root_ / "dangling.yaml").string(), "dangling.yaml"},
           {(root_ / "loop.yaml").string(), "loop.yaml"},
           {"", "--config: empty path"},
       }) {
    for (std::vector<std::string> command : {std::vector<std::string>{"status"}, {"apply", "--dry-run"}}) {
      command.insert(command.begin(), {"--config", path, "kubelet"});
      auto r = on_root(command);
      EXPECT_EQ(r.exit_code, 2) << path << "\n" << r.err;
      EXPECT_NE(r.err.find(says), std::string::npos) << path << "\n" << r.err;
      EXPECT_EQ(r.out, "") << path;  // no plan on the defaults (it used to plan 50 -> -1)
    }
  }
  EXPECT_EQ(nodeimg({"--config=", "gc", "--dry-run"}).exit_code, 2);
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), kubelet_before);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg"));
}

TEST_F(Surface, ARootThatIsNotADirectoryIsExitTwoNamingIt) {
  auto missing = nodeimg({"--root", (root_ / "no/such/node").string(), "kubelet", "status"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--root " + (root_ / "no/such/node").string() + ": no such directory"), std::string::npos)
      << missing.err;
  write("/file", "x");
  auto file = nodeimg({"--root", (root_ / "file").string(), "gc", "--dry-run"});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("not a directory"), std::string::npos) << file.err;
  auto empty = nodeimg({"--root", "", "doctor"});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("--root: empty path"), std::string::npos) << empty.err;
  expect_error_document(nodeimg({"--json", "--root", (root_ / "nope").string(), "images"}), 2, "no such directory");
}

// ---- Without the default configuration file: warned, and kubelet apply refuses --------------

TEST_F(Surface, KubeletApplyRefusesToRunOnTheDefaultsUnlessAskedTo) {
  use_platform("kubeadm");
  const std::string before = read("/var/lib/kubelet/config.yaml");
  for (std::vector<std::string> args : {std::vector<std::string>{"kubelet", "apply"}, {"kubelet", "apply", "--dry-run"},
                                        {"kubelet", "apply", "--no-restart"}}) {
    auto r = on_root(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(conf() + " does not exist"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--defaults"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  expect_error_document(on_root({"--json", "kubelet", "apply"}), 2, "--defaults");
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), before);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg"));

  auto opted = on_root({"kubelet", "apply", "--defaults", "--json"});
  ASSERT_EQ(opted.exit_code, 0) << opted.err;
  EXPECT_EQ(only_document(opted)["configuration"], "defaults");
  EXPECT_NE(opted.err.find("nodeimg: warning: " + conf() + " does not exist: running on nodeimg's built-in defaults"),
            std::string::npos)
      << opted.err;
  EXPECT_NE(read("/var/lib/kubelet/config.yaml"), before);
}

TEST_F(Surface, WithAConfigurationFileJsonNamesItAndNothingIsWarned) {
  use_platform("kubeadm");
  write("/etc/nodeimg/config.yaml", "kubelet:\n  nodeStatusMaxImages: 300\n");
  auto r = on_root({"kubelet", "apply", "--json"});  // no --defaults needed
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(only_document(r)["configuration"], conf());
  EXPECT_EQ(r.err.find("does not exist"), std::string::npos) << r.err;
  auto given = nodeimg({"--root", root_.string(), "--config", conf(), "kubelet", "apply", "--json"});
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(only_document(given)["configuration"], conf());
}

TEST_F(Surface, GcAndPrepullOnTheDefaultsWarnAndSaySoInJson) {
  for (const char* command : {"gc", "prepull"}) {
    auto r = on_root({"--json", command});  // no runtime here: exit 1, with the error document
    expect_error_document(r, 1, "no container runtime found");
    EXPECT_EQ(only_document(r)["configuration"], "defaults") << r.out;
    EXPECT_NE(r.err.find("nodeimg: warning: " + conf() + " does not exist"), std::string::npos) << command << r.err;
  }
  // Read-only commands do not warn.
  auto images = on_root({"images"});
  EXPECT_EQ(images.err.find("does not exist: running on"), std::string::npos) << images.err;
}

// ---- Usage errors: exit 2, the word that was wrong, the nearest valid one ------------------

struct Usage {
  std::vector<std::string> args;
  std::vector<std::string> says;
};

TEST_F(Surface, TyposNameTheWordAndTheNearestValidOne) {
  for (const auto& [args, says] : std::vector<Usage>{
           {{"frobnicate"}, {"unknown command \"frobnicate\"", "kubelet, gc, images, prepull, doctor, completion"}},
           {{"kubelt", "status"}, {"unknown command \"kubelt\"", "did you mean \"kubelet\"?"}},
           {{"imagse"}, {"did you mean \"images\"?"}},
           {{"kubelet", "aply"}, {"unknown kubelet command \"aply\"", "did you mean \"apply\"?", "status, apply, revert"}},
           {{"kubelet", "stauts"}, {"did you mean \"status\"?"}},
           {{"--json", "kubelet", "revret"}, {"did you mean \"revert\"?"}},
           {{"gc", "--dry-rn"}, {"unknown option \"--dry-rn\" for nodeimg gc", "did you mean \"--dry-run\"?"}},
           {{"kubelet", "apply", "--dryrun"}, {"did you mean \"--dry-run\"?"}},
           {{"kubelet", "apply", "--no-restrat"}, {"did you mean \"--no-restart\"?"}},
           {{"--jsno", "gc"}, {"did you mean \"--json\"?"}},
           {{"gc", "now"}, {"unexpected argument \"now\"", "`nodeimg gc` takes no arguments"}},
           {{}, {"`nodeimg` needs a command"}},
           {{"kubelet"}, {"`nodeimg kubelet` needs a command: status, apply, revert"}},
           {{"--root", "/x", "kubelet", "--json"}, {"needs a command"}},
       }) {
    auto r = nodeimg(args);
    const std::string shown = ::testing::PrintToString(args);
    EXPECT_EQ(r.exit_code, 2) << shown << r.err;
    if (std::find(args.begin(), args.end(), "--json") == args.end()) EXPECT_EQ(r.out, "") << shown;
    else expect_error_document(r, 2, says.front());
    for (const auto& s : says) EXPECT_NE(r.err.find(s), std::string::npos) << shown << ": " << s << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << shown << ": one line\n" << r.err;
  }
}

TEST_F(Surface, ContradictionsAndOptionsThatMeanNothingAreUsageErrors) {
  for (const auto& [args, says] : std::vector<Usage>{
           {{"-v", "-q", "doctor"}, {"-v/--verbose and -q/--quiet contradict each other"}},
           {{"-vq", "doctor"}, {"contradict"}},
           {{"doctor", "-q", "-vv"}, {"contradict"}},
           {{"--verbose", "kubelet", "status", "--quiet"}, {"contradict"}},
           {{"images", "--csv", "--json"}, {"--csv and --json contradict each other"}},
           {{"--json", "images", "--csv"}, {"--csv and --json"}},
           {{"images", "--concurrency", "4"}, {"unknown option \"--concurrency\" for nodeimg images"}},
           {{"images", "--concurrency=4"}, {"unknown option \"--concurrency\""}},
           {{"kubelet", "status", "--dry-run"}, {"unknown option \"--dry-run\" for nodeimg kubelet status"}},
           {{"kubelet", "revert", "--defaults"}, {"unknown option \"--defaults\""}},
           {{"gc", "--defaults"}, {"unknown option \"--defaults\""}},
           {{"doctor", "--csv"}, {"unknown option \"--csv\""}},
           {{"prepull", "--dry-run"}, {"unknown option \"--dry-run\""}},
           {{"completion", "bash", "--json"}, {"completion takes no --json"}},
       }) {
    auto r = on_root(args);
    const std::string shown = ::testing::PrintToString(args);
    EXPECT_EQ(r.exit_code, 2) << shown << r.err;
    for (const auto& s : says) EXPECT_NE(r.err.find(s), std::string::npos) << shown << ": " << s << "\n" << r.err;
  }
  // gc keeps --concurrency; its value is still checked.
  EXPECT_EQ(on_root({"gc", "--dry-run", "--concurrency", "0"}).exit_code, 2);
}

// ---- Configuration errors: the lines, and where conflicting values come from ---------------

TEST_F(Surface, DuplicateKeysAndTabsInTheConfigurationAreExitTwoNamingTheLines) {
  write("/etc/nodeimg/config.yaml", "gc:\n  high: 90%\n  low: 80%\n  high: 70%\n");
  auto dup = on_root({"gc", "--dry-run"});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find(conf() + ":4: gc.high: written twice, at lines 2 and 4; keep one of them"), std::string::npos)
      << dup.err;
  write("/etc/nodeimg/config.yaml", "kubelet:\n  restart: true\n\tsettle: 5s\n");
  auto tab = on_root({"kubelet", "status"});
  EXPECT_EQ(tab.exit_code, 2);
  EXPECT_NE(tab.err.find("line 3, column 1: tabs are not allowed for indentation"), std::string::npos) << tab.err;
  expect_error_document(on_root({"--json", "doctor"}), 2, "tabs are not allowed");
}

// kubelet's own file: the same words, and nothing written (kubelet refuses such a file too).
TEST_F(Surface, ATabInKubeletsFileIsNamedByLineAndColumn) {
  use_platform("kubeadm");
  const std::string tabbed = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n"
                             "\tanonymous:\n    enabled: false\n";
  write("/var/lib/kubelet/config.yaml", tabbed);
  auto r = on_root({"kubelet", "apply", "--defaults"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/var/lib/kubelet/config.yaml: not valid YAML: line 4, column 1: tabs are not allowed for "
                       "indentation (kubelet refuses them too)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), tabbed);
}

TEST_F(Surface, KubeletCrossFieldConflictsNameEachSourceAndAreExitTwo) {
  use_platform("kubeadm");
  const std::string before = read("/var/lib/kubelet/config.yaml");
  write("/etc/nodeimg/config.yaml",
        "kubelet:\n  nodeStatusMaxImages: -1\n  settings:\n    imageGCHighThresholdPercent: 70\n");
  const std::string expected = "imageGCLowThresholdPercent 80 (kubelet default) must be below imageGCHighThresholdPercent "
                               "70 (" + conf() + ":4, kubelet.settings.imageGCHighThresholdPercent); set both";
  for (const char* command : {"apply", "status"}) {
    auto r = on_root({"kubelet", command});
    EXPECT_EQ(r.exit_code, 2) << command << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << command << "\n" << r.err;
  }
  expect_error_document(on_root({"--json", "kubelet", "apply"}), 2, expected);
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), before);
}

TEST_F(Surface, GcThresholdConflictsNameTheLineOrTheOption) {
  write("/etc/nodeimg/config.yaml", "gc:\n  high: 90%\n  low: 70%\n");
  auto low = on_root({"gc", "--dry-run", "--low", "95%"});
  EXPECT_EQ(low.exit_code, 2);
  EXPECT_NE(low.err.find("gc.low 95% (--low) must be below gc.high 90% (" + conf() + ":2, gc.high)"), std::string::npos)
      << low.err;
  auto high = on_root({"images", "--high", "60%"});
  EXPECT_EQ(high.exit_code, 2);
  EXPECT_NE(high.err.find("gc.low 70% (" + conf() + ":3, gc.low) must be below gc.high 60% (--high)"), std::string::npos)
      << high.err;
}

TEST_F(Surface, DaysAreAcceptedByNodeimgsOwnOptionsAndSettings) {
  write("/etc/nodeimg/config.yaml", "runtime:\n  endpoint: unix://" + (root_ / "none.sock").string() +
                                        "\ngc:\n  maxUnusedAge: 30d\n  minAge: 1d12h\n");
  // Past the configuration and the options: it fails only for want of a runtime (exit 1).
  auto r = on_root({"gc", "--min-age", "2d", "--max-unused-age", "1.5d", "--lock-timeout", "1d"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("none.sock"), std::string::npos) << r.err;
  auto bad = on_root({"gc", "--dry-run", "--min-age", "2 days"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--min-age: invalid duration \"2 days\""), std::string::npos) << bad.err;
}

// A dry run takes no lock: a lock timeout beside it would be a promise that nothing keeps.
TEST_F(Surface, ALockTimeoutBesideADryRunIsAUsageError) {
  for (std::vector<std::string> args : {std::vector<std::string>{"gc", "--dry-run", "--lock-timeout", "5s"},
                                        {"gc", "--lock-timeout=5s", "-n"},
                                        {"--json", "gc", "-n", "--lock-timeout", "0s"}}) {
    auto r = on_root(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_NE(r.err.find(" excludes "), std::string::npos) << r.err;  // CLI11 names either one first
    EXPECT_NE(r.err.find("--lock-timeout"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--dry-run"), std::string::npos) << r.err;
  }
}

// ---- Errors that say what to do --------------------------------------------------------------

TEST_F(Surface, ARegularFileOrADirectoryGivenAsTheSocketIsNamedAsSuch) {
  write("/containerd.sock", "not a socket\n");
  fs::create_directories(root_ / "dir.sock");
  struct Case {
    std::string path, says;
  };
  for (const auto& [path, says] : std::vector<Case>{{(root_ / "containerd.sock").string(), "is a regular file, not a unix socket"},
                                                    {(root_ / "dir.sock").string(), "is a directory, not a unix socket"}}) {
    write("/etc/nodeimg/config.yaml", "runtime:\n  endpoint: unix://" + path + "\n");
    for (const char* command : {"gc", "images", "prepull"}) {
      auto r = on_root({command});
      EXPECT_EQ(r.exit_code, 1) << command;
      EXPECT_NE(r.err.find(path + " " + says), std::string::npos) << command << "\n" << r.err;
      EXPECT_NE(r.err.find("set runtime.endpoint"), std::string::npos) << r.err;
    }
  }
}

// A runtime that accepts the connection and never answers: the message names the setting
// that bounded the wait, and its value.
TEST_F(Surface, AHungRuntimeIsNamedWithRuntimeTimeout) {
  const std::string sock = (root_ / "hung.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);  // the kernel completes connections; nobody ever reads or answers
  for (const char* kind : {"cri", "docker"}) {
    write("/etc/nodeimg/config.yaml",
          std::string("runtime:\n  kind: ") + kind + "\n  endpoint: unix://" + sock + "\n  timeout: 1s\n");
    auto r = on_root({"--json", "images"});
    EXPECT_EQ(r.exit_code, 1) << kind << r.err;
    EXPECT_NE(r.err.find("did not answer within runtime.timeout (1s)"), std::string::npos) << kind << "\n" << r.err;
    expect_error_document(r, 1, "runtime.timeout (1s)");
  }
  ::close(fd);
}

TEST_F(Surface, DirectoriesRefusedForTheirModeSayWhichRule) {
  use_platform("kubeadm");
  const auto dir = root_ / "var/lib/kubelet";
  struct Case {
    mode_t mode;
    uid_t uid;
    std::string says;
  };
  for (const auto& [mode, uid, says] : std::vector<Case>{
           {0775, 0, "directory /var/lib/kubelet: it is group-writable, mode 0775 (group-writable rule; fix: chmod g-w)"},
           {0777, 0, "directory /var/lib/kubelet: it is world-writable, mode 0777 (world-writable rule; fix: chmod o-w)"},
           {0755, 4321, "directory /var/lib/kubelet: it is owned by uid 4321, not root (owner rule; fix: chown root)"},
       }) {
    ::chmod(dir.c_str(), mode);
    ASSERT_EQ(::chown(dir.c_str(), uid, 0), 0);
    auto r = on_root({"kubelet", "apply", "--defaults"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(says), std::string::npos) << says << "\n" << r.err;
  }
}

TEST_F(Surface, AHeldLockNamesItsHoldersPid) {
  fs::create_directories(root_ / "run/nodeimg");
  const std::string lock = (root_ / "run/nodeimg/gc.lock").string();
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string pid = std::to_string(::getpid());
  ASSERT_EQ(::write(fd, (pid + "\n").data(), pid.size() + 1), static_cast<ssize_t>(pid.size() + 1));
  auto r = on_root({"gc", "--lock-timeout", "0s"});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("held by another nodeimg run, PID " + pid), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ps -p " + pid), std::string::npos) << r.err;
}

// ---- One result, once; one log layout ------------------------------------------------------

TEST_F(Surface, NothingToChangeIsSaidOnceOnStdout) {
  use_platform("kubeadm");
  ASSERT_EQ(on_root({"kubelet", "apply", "--defaults"}).exit_code, 0);
  auto again = on_root({"kubelet", "apply", "--defaults"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to change"), std::string::npos) << again.out;
  EXPECT_EQ(again.err.find("nothing to change"), std::string::npos) << again.err;
  auto verbose = on_root({"-v", "kubelet", "apply", "--defaults"});
  EXPECT_NE(verbose.err.find("nodeimg: debug: kubelet apply: nothing to change NODEIMG_COMMAND=kubelet-apply"),
            std::string::npos)
      << verbose.err;  // -v adds lines, in the same layout
}

// With both streams in one file (2>&1, as cron mail, CI logs and `systemd-run --pty` see it),
// the text is the stdout lines and the stderr lines interleaved, each line whole: a result
// line is never cut by a log line or the other way round.
TEST_F(Surface, BothStreamsInOneFileInterleaveOnlyWholeLines) {
  const auto fresh_node = [this] {
    fs::remove_all(root_);
    fs::create_directories(root_);
    use_platform("kubeadm");
  };
  const auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  for (std::vector<std::string> args : {std::vector<std::string>{"-vv", "kubelet", "apply", "--defaults"},
                                        {"-vv", "kubelet", "apply", "--defaults", "--dry-run"},
                                        {"-vv", "kubelet", "status"},
                                        {"-v", "--json", "kubelet", "apply", "--dry-run"}}) {
    fresh_node();
    const auto apart = on_root(args);
    fresh_node();
    const std::string both_file = (root_.parent_path() / (root_.filename().string() + ".both")).string();
    std::vector<std::string> shell = {"/bin/sh", "-c", "exec \"$@\" >\"$OUT\" 2>&1", "sh", NODEIMG_BINARY, "--root",
                                      root_.string()};
    shell.insert(shell.end(), args.begin(), args.end());
    const auto together = run(shell, {{"OUT", both_file}});
    const std::string both = read_file(both_file);
    fs::remove(both_file);
    EXPECT_EQ(together.exit_code, apart.exit_code) << ::testing::PrintToString(args);
    const auto out = lines(apart.out), err = lines(apart.err);
    ASSERT_FALSE(err.empty()) << ::testing::PrintToString(args);  // -v: there is something to interleave
    std::size_t o = 0, e = 0;
    for (const auto& line : lines(both)) {
      if (o < out.size() && line == out[o])
        ++o;
      else if (e < err.size() && line == err[e])
        ++e;
      else
        ADD_FAILURE() << ::testing::PrintToString(args) << ": a line that is neither the next result line nor the "
                      << "next log line: \"" << line << "\"\n--- together:\n" << both;
    }
    EXPECT_EQ(o, out.size()) << ::testing::PrintToString(args) << both;
    EXPECT_EQ(e, err.size()) << ::testing::PrintToString(args) << both;
    EXPECT_TRUE(both.empty() || both.back() == '\n') << both;
  }
}

TEST_F(Surface, LogLinesHaveOneLayoutWithAndWithoutVerbose) {
  for (std::vector<std::string> args : {std::vector<std::string>{"gc"}, {"-v", "gc"}, {"-vv", "gc"}}) {
    auto r = on_root(args);
    EXPECT_EQ(r.exit_code, 1);
    std::istringstream lines(r.err);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
      ++n;
      EXPECT_TRUE(line.starts_with("nodeimg: ")) << ::testing::PrintToString(args) << ": " << line;
    }
    EXPECT_GE(n, 2);  // the defaults warning and the error at least
    EXPECT_EQ(r.err.back(), '\n');
  }
}

}  // namespace
}  // namespace nodeimg::testing
