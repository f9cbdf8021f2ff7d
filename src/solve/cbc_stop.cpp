// Lets a CBC solve started through the C interface be stopped from Rust.
//
// CBC 2.10's C interface has no interrupt call, but its CbcModel asks an
// event handler at every node and tree-status interval whether to go on;
// answering `stop` ends the search with secondary status 5 ("stopped on
// user event") and the best plan kept. The public header Coin_C_defines.h
// shows the C interface's model structure to C++ code that defines
// CBC_EXTERN_C, which is how the handler reaches the CbcModel inside.

#define CBC_EXTERN_C
#include "CbcModel.hpp"
#include "CbcSolver.hpp"
#include "CbcEventHandler.hpp"
#include "OsiClpSolverInterface.hpp"
#include "Coin_C_defines.h"

namespace {

// Answers `stop` once the flag (a Rust AtomicBool) is set.
class StopOnFlag : public CbcEventHandler {
public:
  explicit StopOnFlag(const bool *flag) : CbcEventHandler(), flag_(flag) {}
  StopOnFlag(const StopOnFlag &rhs) : CbcEventHandler(rhs), flag_(rhs.flag_) {}
  StopOnFlag &operator=(const StopOnFlag &rhs) {
    CbcEventHandler::operator=(rhs);
    flag_ = rhs.flag_;
    return *this;
  }
  CbcEventHandler *clone() const override { return new StopOnFlag(*this); }
  CbcAction event(CbcEvent) override {
    return __atomic_load_n(flag_, __ATOMIC_SEQ_CST) ? stop : noAction;
  }
  CbcAction event(CbcEvent which, void *) override { return event(which); }

private:
  const bool *flag_;
};

} // namespace

// Installs the handler on `model` (a Cbc_Model from Cbc_newModel). CBC keeps
// a copy; the solve copies it again into the model it branches on. `flag`
// must outlive the solve. Returns 0, or 1 when the model has no CbcModel.
extern "C" int edgesplit_cbc_stop_on_flag(void *model, const bool *flag) {
  Cbc_Model *m = static_cast<Cbc_Model *>(model);
  if (m == nullptr || m->model_ == nullptr || flag == nullptr)
    return 1;
  StopOnFlag handler(flag);
  m->model_->passInEventHandler(&handler);
  return 0;
}
