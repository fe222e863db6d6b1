#include "tools/entry_decode.h"

#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/types.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

// Bytes of a change's context shown in the one-line form.
constexpr size_t kContextPreviewBytes = 32;

std::string_view TransitionName(raft::ConfChangeTransition t) {
  switch (t) {
    case raft::ConfChangeTransition::kAuto:
      return "auto";
    case raft::ConfChangeTransition::kJointImplicit:
      return "joint-implicit";
    case raft::ConfChangeTransition::kJointExplicit:
      return "joint-explicit";
  }
  return "unknown";
}

}  // namespace

std::string EntryTypeLabel(uint8_t type) {
  switch (type) {
    case kEntryNormal:
      return "normal";
    case kEntryConfChange:
      return "confchange";
    case kEntryConfChangeV2:
      return "confchangev2";
    default:
      return "unknown(" + std::to_string(type) + ")";
  }
}

std::optional<uint8_t> ParseEntryType(std::string_view label) {
  for (const uint8_t t : {kEntryNormal, kEntryConfChange, kEntryConfChangeV2}) {
    if (label == EntryTypeLabel(t)) return t;
  }
  return std::nullopt;
}

std::optional<ConfChangeView> DescribeConfChange(uint8_t type, std::string_view data) {
  ConfChangeView view;
  if (type == kEntryConfChange) {
    auto cc = raft::DecodeConfChange(data);
    if (!cc.ok()) {
      view.text = "undecodable ConfChange: " + std::string(cc.status().message());
      view.json = Json{{"error", std::string(cc.status().message())}};
      return view;
    }
    view.ok = true;
    view.text =
        std::string(raft::ConfChangeTypeName(cc->type)) + " node=" + std::to_string(cc->node_id);
    if (cc->id != 0) view.text += " id=" + std::to_string(cc->id);
    if (!cc->context.empty()) {
      view.text += " context=\"" + Preview(cc->context, kContextPreviewBytes) + "\"";
    }
    view.json = Json{{"version", 1},
                     {"type", raft::ConfChangeTypeName(cc->type)},
                     {"node_id", cc->node_id},
                     {"id", cc->id},
                     {"context_base64", Base64(cc->context)}};
    return view;
  }
  if (type == kEntryConfChangeV2) {
    auto cc = raft::DecodeConfChangeV2(data);
    if (!cc.ok()) {
      view.text = "undecodable ConfChangeV2: " + std::string(cc.status().message());
      view.json = Json{{"error", std::string(cc.status().message())}};
      return view;
    }
    view.ok = true;
    const bool leave = raft::LeaveJoint(*cc);
    if (leave) {
      view.text = "v2 leave-joint";
    } else {
      view.text = "v2 " + std::string(TransitionName(cc->transition)) + ": " +
                  raft::ConfChangesToString(cc->changes);
    }
    if (!cc->context.empty()) {
      view.text += " context=\"" + Preview(cc->context, kContextPreviewBytes) + "\"";
    }
    Json changes = Json::array();
    for (const raft::ConfChangeSingle& c : cc->changes) {
      changes.push_back(Json{{"type", raft::ConfChangeTypeName(c.type)}, {"node_id", c.node_id}});
    }
    view.json = Json{{"version", 2},
                     {"transition", TransitionName(cc->transition)},
                     {"changes", std::move(changes)},
                     {"leave_joint", leave},
                     {"context_base64", Base64(cc->context)}};
    return view;
  }
  return std::nullopt;
}

}  // namespace raftlog::tools
